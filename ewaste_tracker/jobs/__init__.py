"""Files in, files out: what the command-line subcommands do."""
