"""Tables in, the engine run: input schemas and readers, the model runner, fingerprints."""
