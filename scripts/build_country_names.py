"""Rebuild ``data/country_names.csv``: official short names and the names people search for.

Sources
-------
* **Official short names**: the country names of the Global E-waste Monitor 2024 country
  annex (Baldé et al. 2024, ITU/UNITAR), which follow the UN M49 English short names
  (``../shared/reference/gem2024_country_annex.csv``, developer-only). Where the UN has
  renamed a country since the Monitor's table was set (Czechia 2016, Türkiye 2022, Eswatini
  2018: the annex writes "Czech Republic", "Turkey", "Eswatini (Swaziland)"), the current
  M49 name is used and the Monitor's name becomes an alias.
* **Territories** absent from the annex (46 of the catalogue's 239: Anguilla, Greenland,
  Kosovo ...): the UN M49 English short name (UNSD, *Standard country or area codes for
  statistical use*), written out in :data:`TERRITORIES`; Kosovo is not in M49 and keeps its
  common name.
* **Aliases**: the catalogue's Natural Earth name when it differs (map abbreviations such as
  "S. Sudan", "Dem. Rep. Korea"), and the common English names in :data:`COMMON` (this
  project's list: the names used by the press and in earlier Monitors).

Run::

    python scripts/build_country_names.py --reference ../shared/reference
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "ewaste_tracker" / "data" / "country_names.csv"
GEM = (
    "Global E-waste Monitor 2024 country annex (Baldé et al. 2024, ITU/UNITAR), UN M49 "
    "English short name"
)
M49 = "UN M49 English short name (UNSD, Standard country or area codes for statistical use)"

RENAMED = {"CZE": "Czechia", "TUR": "Türkiye", "SWZ": "Eswatini"}
"""Countries the UN renamed after the Monitor's table was set: current M49 name."""

TERRITORIES = {
    "AIA": "Anguilla", "ALA": "Åland Islands", "AND": "Andorra", "ASM": "American Samoa",
    "ATA": "Antarctica", "ATF": "French Southern Territories", "BLM": "Saint Barthélemy",
    "BMU": "Bermuda", "COK": "Cook Islands", "CUB": "Cuba", "CUW": "Curaçao",
    "CYM": "Cayman Islands", "ESH": "Western Sahara", "FLK": "Falkland Islands (Malvinas)",
    "FRO": "Faroe Islands", "GGY": "Guernsey", "GIB": "Gibraltar", "GRL": "Greenland",
    "GUM": "Guam", "HMD": "Heard Island and McDonald Islands", "IMN": "Isle of Man",
    "IOT": "British Indian Ocean Territory", "JEY": "Jersey", "LIE": "Liechtenstein",
    "MAF": "Saint Martin (French Part)", "MCO": "Monaco", "MNP": "Northern Mariana Islands",
    "MSR": "Montserrat", "NCL": "New Caledonia", "NFK": "Norfolk Island", "NIU": "Niue",
    "PCN": "Pitcairn", "PRK": "Democratic People's Republic of Korea",
    "PSE": "State of Palestine", "PYF": "French Polynesia",
    "SGS": "South Georgia and the South Sandwich Islands", "SHN": "Saint Helena",
    "SPM": "Saint Pierre and Miquelon", "SXM": "Sint Maarten (Dutch part)",
    "TCA": "Turks and Caicos Islands", "UMI": "United States Minor Outlying Islands",
    "VAT": "Holy See", "VGB": "British Virgin Islands", "VIR": "United States Virgin Islands",
    "WLF": "Wallis and Futuna Islands", "XKX": "Kosovo",
}  # fmt: skip
"""UN M49 names of the catalogue's areas that the Monitor's annex does not list."""

COMMON = {
    "ARE": ["UAE", "Emirates"], "BOL": ["Bolivia"], "BRN": ["Brunei"],
    "CIV": ["Ivory Coast", "Cote d'Ivoire"], "COD": ["DR Congo", "DRC", "Congo-Kinshasa"],
    "COG": ["Congo-Brazzaville", "Republic of the Congo"], "CPV": ["Cape Verde"],
    "CZE": ["Czech Republic"], "FSM": ["Micronesia"], "GBR": ["United Kingdom", "UK",
    "Great Britain", "Britain"], "HKG": ["Hong Kong"], "IRN": ["Iran", "Persia"],
    "KNA": ["St Kitts and Nevis"], "KOR": ["South Korea", "Korea"], "LAO": ["Laos"],
    "LCA": ["St Lucia"], "MAC": ["Macau", "Macao"], "MDA": ["Moldova"], "MKD": ["Macedonia"],
    "MMR": ["Burma"], "NLD": ["Holland"], "PRK": ["North Korea", "DPRK"],
    "PSE": ["Palestine"], "RUS": ["Russia"], "SWZ": ["Swaziland"], "SYR": ["Syria"],
    "TLS": ["East Timor"], "TUR": ["Turkey"], "TWN": ["Taiwan"], "TZA": ["Tanzania"],
    "USA": ["United States", "USA", "US", "America"], "VAT": ["Vatican"],
    "VCT": ["St Vincent and the Grenadines"], "VEN": ["Venezuela"], "VNM": ["Vietnam"],
    "FLK": ["Falkland Islands"], "GMB": ["The Gambia"], "BHS": ["The Bahamas"],
}  # fmt: skip
"""Common English names searched for (this project's list)."""


def build(reference: Path) -> pd.DataFrame:
    """The table written to ``data/country_names.csv`` (see the module docstring)."""
    countries = pd.read_csv(REPO / "ewaste_tracker" / "data" / "countries.csv",
                            keep_default_na=False, dtype=str)  # fmt: skip
    gem = pd.read_csv(reference / "gem2024_country_annex.csv", keep_default_na=False, dtype=str)
    gem_name = dict(zip(gem["iso3"], gem["country"], strict=True))
    rows = []
    for iso3, ne_name in zip(countries["iso3"], countries["name"], strict=True):
        aliases: list[str] = []
        if iso3 in RENAMED:
            name, source = RENAMED[iso3], M49
            aliases.append(gem_name[iso3])
        elif iso3 in gem_name:
            name, source = gem_name[iso3], GEM
        elif iso3 in TERRITORIES:
            name, source = TERRITORIES[iso3], M49
        else:
            raise SystemExit(f"{iso3} ({ne_name}) has no official name: add it to TERRITORIES")
        if iso3 == "XKX":
            source = "common name (not in UN M49)"
        aliases += [ne_name, *COMMON.get(iso3, [])]
        seen = {name.casefold()}
        keep = []
        for a in aliases:
            if a.casefold() not in seen:
                seen.add(a.casefold())
                keep.append(a)
        alias_src = "; aliases: Natural Earth 5.1.1 name and common English names (this project)"
        rows.append((iso3, name, "|".join(keep), source + (alias_src if keep else "")))
    return pd.DataFrame(rows, columns=["iso3", "name", "aliases", "source"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, default=REPO.parent / "shared" / "reference")
    args = parser.parse_args()
    table = build(args.reference)
    table.to_csv(OUT, index=False, lineterminator="\n")
    print(f"wrote {OUT} ({len(table)} rows)")


if __name__ == "__main__":
    main()
