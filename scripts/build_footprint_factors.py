"""Rebuild the life-cycle factor tables of the footprint in ``data/``.

Writes

``footprint_factors.csv``
    one row per UNU-KEY and factor (tidy): ``product, factor, substance, unit, low, central,
    high, from_year, to_year, reference_year, system_boundary, source, status``. Factors:
    ``embodied_kg_co2e_per_piece``, ``primary_energy_mj_per_piece``, ``water_m3_per_piece``,
    ``adp_kg_sb_eq_per_piece``, ``use_kwh_per_piece_year``, ``refrigerant_kg_per_piece``
    (``substance`` names the refrigerant or foam blowing agent), ``mercury_mg_per_piece`` and
    ``bfr_plastics_kg_per_piece``. ``from_year``/``to_year`` bound the years the equipment
    was *put on the market* (vintages: refrigerants, CCFL backlights, RoHS mercury limits);
    blank means every year.
``refrigerant_gwp.csv``
    GWP100 of every substance above (IPCC AR6 WGI, Chapter 7 SM, Table 7.SM.7).
``element_footprint.csv``
    per element: primary and secondary production GHG (kg CO2e per kg) and the CML-IA
    abiotic depletion factor (kg Sb-eq per kg).

Status
    ``published`` only for values read in a source while building this table (the citation
    says where); ``estimate`` for everything else: values recalled from published studies but
    not re-read here (the source says *recalled*), and this project's derivations (per-kg
    category intensities, ratios, vintage shares). The Monte Carlo issue draws from
    ``low``/``central``/``high``.

Derivations
    * Embodied GHG per piece: the device anchor where one exists, else a category intensity
      (kg CO2e per kg, cradle-to-gate) times the UNU-KEY's average unit weight.
    * Primary energy: embodied GHG x 13 MJ per kg CO2e (10-16; electricity-dominated
      manufacturing on coal-heavy grids: 1 kWh ~ 10 MJ primary ~ 0.8 kg CO2e).
    * Water (blue water consumption, cradle-to-gate): embodied GHG x 0.03 m3 per kg CO2e for
      semiconductor-rich ICT and screens (0.01-0.08), 0.015 for other equipment (0.005-0.04).
    * Abiotic depletion (elements, ultimate reserves): the contained elements of
      ``composition.csv`` x the CML-IA characterisation factors: a content-based boundary,
      process materials excluded.
    * Plastics with BFR: unit weight x plastics share (``composition.csv``) x the share of
      plastics carrying brominated flame retardants of the product group.

Run::

    python scripts/build_footprint_factors.py
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd

logger = logging.getLogger(__name__)
REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "ewaste_tracker" / "data"

EST = "estimate (this project): "
REC = "recalled, not re-read here"
GATE = "cradle-to-gate (materials, components, assembly; transport, use and end of life excluded)"
ICT = {"0301", "0302", "0303", "0304", "0305", "0306", "0307", "0308", "0309", "0407", "0408"}

# ---------------------------------------------------------------------------------------------
# embodied GHG: device anchors (kg CO2e per piece: low, central, high, reference year, source,
# status)
IPHONE_X = (
    "Apple (2017) iPhone X Environmental Report: 79 kg CO2e life cycle, 80 % production "
    "(= 63 kg), as quoted by applepit.com (read)"
)
DELL_E6400 = (
    "O'Connell S., Stutz M. (2010) Product carbon footprint (PCF) assessment of Dell laptop - "
    "results and recommendations, IEEE ISSST: Latitude E6400 300-400 kg CO2e over 4 years, "
    "manufacturing and use nearly equal (read); Boavizta (2025) business-laptop mean 280 kg "
    "cradle-to-grave, as listed by reverberate.earth (read)"
)
ANCHORS: dict[str, tuple[float, float, float, int, str]] = {
    "0306": (
        20,
        50,
        80,
        2017,
        f"{EST}mix of smartphones (anchor {IPHONE_X}) and feature "
        "phones / pagers (~15-20 kg, estimate)",
    ),
    "0303": (
        80,
        150,
        250,
        2010,
        f"{EST}laptops ~170 kg production ({DELL_E6400}) mixed with tablets (~80-100 kg, estimate)",
    ),
    "0302": (
        150,
        300,
        500,
        2013,
        f"{EST}desktop PC without monitor; range of published PCFs "
        f"(Teehan P., Kandlikar M. (2013) Environ. Sci. Technol. 47:3997-4003; {REC})",
    ),
    "0309": (
        100,
        220,
        350,
        2018,
        f"{EST}22-27 inch LCD monitor; manufacturers' PAIA PCFs (Dell, HP, Lenovo; {REC})",
    ),
    "0408": (
        200,
        350,
        600,
        2018,
        f"{EST}32-55 inch LCD TV; display panel manufacturing "
        f"dominates (Huang et al. / Samsung & LG PCFs; {REC})",
    ),
    "0307": (
        400,
        1000,
        2500,
        2019,
        f"{EST}rack server ~1.0-2.5 t CO2e production (Dell "
        f"PowerEdge PCFs, {REC}) mixed with routers, storage and copiers",
    ),
    "0304": (
        50,
        100,
        200,
        2015,
        f"{EST}laser / inkjet printers and multifunctionals (HP PCFs, {REC})",
    ),
    "0308": (
        120,
        200,
        300,
        2005,
        f"{EST}17 inch CRT monitor ({REC}: Socolof M.L. et al. "
        "(2001) Desktop computer displays: a life-cycle assessment, US EPA 744-R-01-004)",
    ),
    "0407": (
        150,
        250,
        400,
        2005,
        f"{EST}CRT TV, scaled from the CRT monitor by glass and electronics mass",
    ),
    "0301": (
        5,
        12,
        25,
        2018,
        f"{EST}routers (~20-40 kg), keyboards and mice (~3-10 kg), "
        "external drives; UNU mix of 0.4 kg",
    ),
    "0305": (8, 15, 30, 2015, f"{EST}cordless and desk phones"),
    "0702": (
        15,
        30,
        80,
        2018,
        f"{EST}controllers and handhelds (UNU weight 0.48 kg) with "
        f"home consoles (~90 kg production, Sony PS4 PCF, {REC})",
    ),
    "0002": (
        100,
        180,
        300,
        2020,
        f"{EST}crystalline-silicon module of ~0.3 kWp at 400-700 kg "
        f"CO2e per kWp (IEA PVPS Task 12 LCA fact sheets, {REC})",
    ),
    "0502": (
        1.0,
        1.5,
        3.0,
        2012,
        f"{EST}compact fluorescent lamp ({REC}: Osram (2009) LCA of "
        "illuminants; DEFRA LED/CFL LCA)",
    ),
    "0503": (1.0, 1.5, 3.0, 2012, f"{EST}linear fluorescent tube ({REC}: Osram (2009))"),
    "0504": (1.0, 2.0, 5.0, 2012, f"{EST}high-intensity discharge and special lamps"),
    "0505": (
        1.0,
        2.5,
        5.0,
        2015,
        f"{EST}LED retrofit lamp with driver ({REC}: US DOE (2012) "
        "Life-cycle assessment of energy and environmental impacts of LED lighting "
        "products, Part 2)",
    ),
    "0501": (0.5, 1.0, 2.0, 2012, f"{EST}halogen and other small lamps"),
}

# category intensities (kg CO2e per kg of product, cradle-to-gate): low, central, high, note
INTENSITY: dict[str, tuple[float, float, float, str]] = {
    "0001": (4, 6, 9, "household boilers: steel and copper"),
    "0101": (4, 6, 9, "professional heating and ventilation: steel"),
    "0102": (4, 6, 9, "dishwasher: steel, plastics, motor, controls"),
    "0103": (4, 6, 9, "cookers and ovens: steel and glass"),
    "0104": (4, 6, 9, "washing machine: steel, concrete counterweight, motor"),
    "0105": (4, 6, 9, "dryer: steel, motor, heat exchanger"),
    "0106": (5, 7, 10, "hoods, fans, space heaters"),
    "0108": (5, 7, 10, "fridge: steel, PU foam, compressor (blowing-agent emissions excluded)"),
    "0109": (5, 7, 10, "freezer, as fridges"),
    "0111": (7, 10, 14, "air conditioner: copper coils, compressor, aluminium fins"),
    "0112": (6, 8, 12, "dehumidifiers, heat-pump dryers"),
    "0113": (6, 8, 12, "professional cooling and display cabinets"),
    "0114": (5, 7, 10, "microwave oven: steel, magnetron, controls"),
    "0201": (5, 8, 12, "small household equipment"),
    "0202": (5, 8, 12, "food preparation"),
    "0203": (5, 8, 12, "kettles and coffee machines"),
    "0204": (5, 8, 12, "vacuum cleaners"),
    "0205": (6, 10, 15, "personal care with batteries"),
    "0401": (15, 25, 40, "small consumer electronics: PCB-rich"),
    "0402": (15, 25, 40, "portable audio and video"),
    "0403": (8, 12, 20, "hi-fi and radio"),
    "0404": (10, 15, 25, "video players and set-top boxes"),
    "0405": (6, 10, 15, "speakers: wood, magnets"),
    "0406": (20, 35, 60, "cameras: optics and electronics"),
    "0506": (5, 8, 12, "household luminaires (lamps counted separately)"),
    "0507": (5, 8, 12, "professional luminaires (lamps counted separately)"),
    "0601": (5, 8, 12, "household tools, with batteries"),
    "0602": (5, 7, 10, "professional tools"),
    "0701": (6, 10, 15, "toys"),
    "0703": (6, 10, 16, "leisure equipment incl. e-bikes (battery)"),
    "0801": (10, 20, 35, "household medical electronics"),
    "0802": (8, 15, 25, "professional medical equipment"),
    "0901": (10, 20, 35, "household monitoring and control"),
    "0902": (10, 20, 35, "professional monitoring and control"),
    "1001": (4, 6, 9, "non-cooled dispensers"),
    "1002": (5, 7, 10, "cooled dispensers"),
}

# ---------------------------------------------------------------------------------------------
# use-phase electricity (kWh per piece in use and year): low, central, high, note
ECODESIGN = (
    f"{REC}: EU Ecodesign preparatory studies and impact assessments (VHK / Fraunhofer / "
    "BIO IS) and ENERGY STAR typical electricity consumption"
)
USE: dict[str, tuple[float, float, float, str]] = {
    "0001": (50, 150, 300, "circulation pump and controls of a gas or oil boiler (fuel excluded)"),
    "0002": (0, 0, 0, "generates electricity; generation not credited here"),
    "0101": (300, 1000, 3000, "professional ventilation and heating fans"),
    "0102": (150, 250, 350, "dishwasher, ~220 cycles a year"),
    "0103": (150, 300, 500, "electric cookers and ovens"),
    "0104": (100, 180, 250, "washing machine, ~220 cycles a year"),
    "0105": (150, 350, 550, "tumble dryer"),
    "0106": (30, 100, 300, "hoods, fans and space heaters"),
    "0108": (150, 300, 500, "fridge in the stock (old and new)"),
    "0109": (150, 300, 500, "freezer in the stock"),
    "0111": (300, 600, 1200, "room air conditioner; depends on climate"),
    "0112": (80, 200, 400, "dehumidifiers, heat-pump dryers"),
    "0113": (1500, 3000, 6000, "professional refrigeration and display cabinets"),
    "0114": (30, 60, 100, "microwave oven incl. standby"),
    "0201": (3, 10, 25, "small household equipment"),
    "0202": (10, 20, 40, "food preparation"),
    "0203": (30, 60, 120, "kettles and coffee machines"),
    "0204": (15, 30, 50, "vacuum cleaner"),
    "0205": (2, 5, 10, "personal care"),
    "0301": (3, 10, 30, "routers (~50-70 kWh) with mice, keyboards and drives (~0-5 kWh)"),
    "0302": (80, 150, 300, "desktop PC, office and home use"),
    "0303": (15, 30, 50, "laptops and tablets"),
    "0304": (10, 30, 80, "printers and multifunctionals"),
    "0305": (5, 15, 30, "cordless phones with base stations"),
    "0306": (2, 4, 8, "smartphone charging"),
    "0307": (
        400,
        1000,
        3000,
        "servers (2,000-5,000 kWh), network and storage equipment, copiers (300-500 kWh)",
    ),
    "0308": (50, 80, 120, "CRT monitor"),
    "0309": (25, 50, 80, "flat-panel monitor"),
    "0401": (1, 2, 5, "small consumer electronics"),
    "0402": (1, 2, 5, "portable audio and video"),
    "0403": (10, 30, 60, "hi-fi and radio incl. standby"),
    "0404": (20, 40, 100, "set-top boxes and video players incl. standby"),
    "0405": (3, 10, 30, "active speakers"),
    "0406": (1, 2, 4, "cameras"),
    "0407": (80, 120, 200, "CRT TV"),
    "0408": (70, 120, 200, "flat-panel TV"),
    "0501": (2, 5, 15, "halogen and other small lamps"),
    "0502": (5, 11, 20, "11 W CFL, ~1,000 h a year"),
    "0503": (40, 70, 120, "36 W tube with ballast, ~2,000 h a year"),
    "0504": (150, 300, 600, "HID lamps, ~3,000 h a year"),
    "0505": (4, 8, 15, "8 W LED lamp, ~1,000 h a year"),
    "0506": (0, 0, 0, "luminaire: its lamp is counted with the lamps"),
    "0507": (0, 0, 0, "luminaire: its lamp is counted with the lamps"),
    "0601": (2, 5, 15, "household tools"),
    "0602": (20, 50, 150, "professional tools"),
    "0701": (1, 2, 5, "toys"),
    "0702": (20, 50, 120, "game consoles and controllers"),
    "0703": (10, 30, 80, "leisure equipment, e-bikes"),
    "0801": (0.5, 1, 3, "household medical"),
    "0802": (300, 1000, 3000, "professional medical equipment"),
    "0901": (2, 5, 15, "household monitoring and control"),
    "0902": (20, 50, 150, "professional monitoring and control"),
    "1001": (500, 1000, 2000, "non-cooled vending and ticket machines"),
    "1002": (1000, 2000, 3500, "cooled vending machines"),
}

# ---------------------------------------------------------------------------------------------
# refrigerants and foam blowing agents by vintage (sale years): initial charge x world market
# share, kg per piece (low = 0.7 x, high = 1.3 x), times the share remaining at end of life
MONTREAL = (
    f"{REC}: Montreal Protocol phase-out schedules (CFCs 1996 / 2010, HCFCs 2013-2030), "
    "UNEP TEAP Refrigeration, Air Conditioning and Heat Pumps Technical Options Committee "
    "assessment reports (typical charges), EU F-gas Regulation 517/2014"
)
VINTAGES: dict[str, list[tuple[int | None, int | None, str, float, str]]] = {
    "0108": [
        (None, 1994, "CFC-12", 0.12, "fridge circuit 0.10-0.15 kg CFC-12"),
        (None, 1994, "CFC-11", 0.30, "PU foam blowing agent ~0.3 kg CFC-11"),
        (1995, 2009, "HFC-134a", 0.06, "60 % of fridges with ~0.1 kg HFC-134a"),
        (1995, 2009, "R-600a", 0.02, "40 % with ~0.05 kg isobutane"),
        (1995, 2004, "HCFC-141b", 0.25, "foam blown with HCFC-141b outside Europe"),
        (2010, 2019, "HFC-134a", 0.04, "40 % with HFC-134a"),
        (2010, 2019, "R-600a", 0.03, "60 % with isobutane"),
        (2020, None, "HFC-134a", 0.02, "20 % with HFC-134a"),
        (2020, None, "R-600a", 0.04, "80 % with isobutane"),
    ],
    "0109": [
        (None, 1994, "CFC-12", 0.15, "freezer circuit ~0.15 kg CFC-12"),
        (None, 1994, "CFC-11", 0.40, "PU foam blowing agent ~0.4 kg CFC-11"),
        (1995, 2009, "HFC-134a", 0.08, "60 % with ~0.13 kg HFC-134a"),
        (1995, 2009, "R-600a", 0.025, "40 % with ~0.06 kg isobutane"),
        (1995, 2004, "HCFC-141b", 0.30, "foam blown with HCFC-141b outside Europe"),
        (2010, 2019, "HFC-134a", 0.05, "40 % with HFC-134a"),
        (2010, 2019, "R-600a", 0.035, "60 % with isobutane"),
        (2020, None, "HFC-134a", 0.025, "20 % with HFC-134a"),
        (2020, None, "R-600a", 0.05, "80 % with isobutane"),
    ],
    "0111": [
        (None, 2004, "HCFC-22", 1.0, "split / window unit ~1 kg R-22"),
        (2005, 2014, "HCFC-22", 0.5, "half of units still R-22"),
        (2005, 2014, "R-410A", 0.5, "half R-410A ~1 kg"),
        (2015, None, "HCFC-22", 0.15, "15 % R-22 (developing markets)"),
        (2015, None, "R-410A", 0.45, "55 % R-410A ~0.8 kg"),
        (2015, None, "HFC-32", 0.2, "30 % R-32 ~0.7 kg"),
    ],
    "0112": [
        (None, 2009, "HFC-134a", 0.3, "dehumidifiers, heat-pump dryers ~0.3 kg"),
        (2010, None, "HFC-134a", 0.15, "half HFC-134a"),
        (2010, None, "R-290", 0.08, "half propane ~0.15 kg"),
    ],
    "0113": [
        (None, 2004, "HCFC-22", 3.0, "professional cooling ~3 kg R-22"),
        (2005, 2019, "R-404A", 2.0, "display cabinets / condensing units ~2-3 kg R-404A"),
        (2005, 2019, "R-410A", 1.0, "large air conditioners"),
        (2020, None, "R-404A", 1.0, "R-404A phasing down"),
        (2020, None, "R-410A", 1.0, "large air conditioners"),
        (2020, None, "R-290", 0.3, "propane plug-in cabinets"),
    ],
    "1002": [
        (None, 1994, "CFC-12", 0.5, "vending machine ~0.5 kg CFC-12"),
        (1995, 2014, "HFC-134a", 0.4, "HFC-134a ~0.4 kg"),
        (2015, None, "HFC-134a", 0.2, "half HFC-134a"),
        (2015, None, "R-290", 0.08, "half propane / CO2"),
    ],
}

IPCC_GL = (
    f"{REC}: IPCC (2006) Guidelines for National GHG Inventories, Vol. 3 Ch. 7, Table 7.9: "
    "charge remaining at end of life 0-80 % of the initial charge (refrigeration and air "
    "conditioning); closed-cell PU foam keeps most of its blowing agent (annual loss ~0.25 %)"
)
REMAINING = {"circuit": (0.2, 0.4, 0.8), "foam": (0.8, 0.9, 0.95)}
"""Share of the initial charge still in the product when it is discarded (low, central, high):
the midpoint of the IPCC range for circuits, ~90 % for foam blowing agents."""
FOAM = {"CFC-11", "HCFC-141b"}

GWP = {  # IPCC AR6 WGI Chapter 7 SM Table 7.SM.7 (GWP100); blends by mass fraction
    "CFC-11": 6230.0,
    "CFC-12": 12500.0,
    "HCFC-22": 1960.0,
    "HCFC-141b": 860.0,
    "HFC-134a": 1526.0,
    "HFC-32": 771.0,
    "R-410A": 0.5 * 771.0 + 0.5 * 3740.0,
    "R-404A": 0.44 * 3740.0 + 0.52 * 5810.0 + 0.04 * 1526.0,
    "R-600a": 0.0,
    "R-290": 0.0,
}
AR6 = (
    "IPCC (2021) AR6 WGI Chapter 7 Supplementary Material, Table 7.SM.7 (GWP100), read in "
    "public transcriptions of the table"
)
GWP_NOTES = {
    "R-410A": "blend 50 % HFC-32 (771) + 50 % HFC-125 (3740), by mass",
    "R-404A": "blend 44 % HFC-125 (3740) + 52 % HFC-143a (5810) + 4 % HFC-134a (1526)",
    "R-600a": "hydrocarbon: GWP100 of a few units, taken as 0 (not in Table 7.SM.7)",
    "R-290": "hydrocarbon: GWP100 of a few units, taken as 0 (not in Table 7.SM.7)",
}

# ---------------------------------------------------------------------------------------------
# mercury (mg per piece) by vintage: from, to, central, low, high, note
ROHS = (
    f"{REC}: Directive 2011/65/EU (RoHS 2) Annex III exemptions 1(a)-4 (mercury per lamp: "
    "CFL < 30 W 2.5 mg from 2012, linear tri-band 5 mg, HID lamps up to tens of mg); "
    "Directive 2002/95/EC limits before (CFL 5 mg)"
)
CCFL = (
    f"{REC}: CCFL backlights 3-5 mg Hg per tube, LED backlights replaced them in monitors "
    "and TVs about 2009-2014 (market share path: estimate)"
)
MERCURY: dict[str, list[tuple[int | None, int | None, float, float, float, str]]] = {
    "0502": [
        (None, 2011, 4.0, 2.0, 5.0, f"CFL, RoHS 1 limit 5 mg ({ROHS})"),
        (2012, None, 2.0, 1.0, 2.5, f"CFL, RoHS 2 limit 2.5 mg ({ROHS})"),
    ],
    "0503": [
        (None, 2011, 8.0, 4.0, 15.0, f"linear fluorescent tube ({ROHS})"),
        (2012, None, 4.0, 2.0, 5.0, f"tri-band tube, limit 5 mg ({ROHS})"),
    ],
    "0504": [(None, None, 20.0, 10.0, 60.0, f"HID / special lamps ({ROHS})")],
    "0309": [
        (None, 2008, 6.0, 3.0, 12.0, f"CCFL-backlit LCD monitor, ~2 tubes ({CCFL})"),
        (2009, 2013, 3.0, 1.0, 6.0, f"half of monitors CCFL ({CCFL})"),
    ],
    "0408": [
        (None, 2009, 15.0, 8.0, 30.0, f"CCFL-backlit LCD TV, 6-16 tubes; plasma 0 ({CCFL})"),
        (2010, 2014, 6.0, 2.0, 12.0, f"CCFL share falling to 0 ({CCFL})"),
    ],
    "0303": [
        (None, 2008, 1.0, 0.5, 2.0, f"laptop with one CCFL backlight ({CCFL})"),
        (2009, 2011, 0.4, 0.1, 1.0, f"LED backlights taking over ({CCFL})"),
    ],
}

# share of plastics carrying brominated flame retardants: low, central, high
BFR_NOTE = (
    "Hennebert P. (2020) Detritus 12:34-50 (synthesis of 4,000 measurements: 'the brominated "
    "fraction [of EEE plastics] being a few percent', read); "
    f"{REC}: Wäger P.A., Schluep M., Müller E., Gloor R. (2012) RoHS regulated substances in "
    "mixed plastics from WEEE, Environ. Sci. Technol. 46:628-635; UNEP (2021) Stockholm "
    "Convention guidance on PBDE inventories (CRT housings)"
)
BFR: dict[str, tuple[float, float, float]] = {
    **dict.fromkeys(("0308", "0407"), (0.08, 0.15, 0.30)),
    **dict.fromkeys(("0309", "0408"), (0.03, 0.08, 0.15)),
    **dict.fromkeys(("0302", "0303", "0304", "0307"), (0.03, 0.08, 0.15)),
    **dict.fromkeys(("0301", "0305", "0306", "0702"), (0.02, 0.05, 0.10)),
    **dict.fromkeys(("0401", "0402", "0403", "0404", "0405", "0406"), (0.02, 0.05, 0.10)),
    **dict.fromkeys(("0502", "0503", "0504", "0505", "0501", "0506", "0507"), (0.0, 0.01, 0.03)),
    **dict.fromkeys(("0002",), (0.0, 0.0, 0.01)),
}
BFR_DEFAULT = (0.005, 0.015, 0.04)

# ---------------------------------------------------------------------------------------------
# elements: primary GHG, secondary GHG (kg CO2e per kg), CML-IA ADP (kg Sb-eq per kg)
NUSS = (
    f"Nuss P., Eckelman M.J. (2014) Life cycle assessment of metals: a scientific synthesis, "
    f"PLoS ONE 9(7):e101298, cradle-to-gate GWP per kg ({REC})"
)
CML = (
    "CML-IA characterisation factors v4.8 (Leiden University, 2016), abiotic depletion, "
    f"elements, ultimate reserves (kg Sb-eq/kg; {REC})"
)
# element: primary central, secondary share of primary (central), ADP
ELEMENTS: dict[str, tuple[float, float, float]] = {
    "Au": (12500, 0.02, 52.0),
    "Ag": (196, 0.05, 1.18),
    "Pd": (3880, 0.02, 0.571),
    "Pt": (12500, 0.02, 2.22),
    "Cu": (2.8, 0.35, 1.37e-3),
    "Al": (8.2, 0.07, 1.09e-9),
    "Fe": (1.5, 0.35, 5.24e-8),
    "Co": (8.3, 0.3, 1.57e-5),
    "Li": (7.1, 0.5, 1.15e-5),
    "Ni": (6.5, 0.3, 6.53e-5),
    "Sn": (17.1, 0.3, 1.62e-2),
    "Nd": (17.6, 0.5, 5.51e-7),
    "Pr": (17.6, 0.5, 8.57e-7),
    "Dy": (59.8, 0.5, 2.13e-6),
    "Tb": (59.8, 0.5, 2.36e-5),
    "Ga": (205, 0.5, 1.46e-7),
    "In": (102, 0.5, 6.89e-3),
    "Ta": (260, 0.5, 4.06e-5),
    "Sb": (12.9, 0.3, 1.0),
    "Pb": (1.3, 0.3, 6.34e-3),
}
SECONDARY = (
    f"{EST}secondary production as a share of primary: Al 7 % (International Aluminium "
    f"Institute: remelting needs ~5 % of the primary energy, {REC}), Fe and Cu ~35 % (EAF "
    "steel, secondary copper smelting), precious metals from e-scrap at integrated smelters "
    "2-5 % (allocated by mass), others 30-50 %"
)


def _products() -> pd.DataFrame:
    return pd.read_csv(DATA / "products.csv", dtype={"unu_key": str})


def _composition() -> pd.DataFrame:
    return pd.read_csv(DATA / "composition.csv", dtype={"product": str})


def _row(product: str, factor: str, unit: str, lo: float, c: float, hi: float, **kw) -> dict:
    return {
        "product": product, "factor": factor, "substance": kw.get("substance", ""),
        "unit": unit, "low": lo, "central": c, "high": hi,
        "from_year": kw.get("from_year"), "to_year": kw.get("to_year"),
        "reference_year": kw.get("reference_year"), "system_boundary": kw["boundary"],
        "source": kw["source"], "status": kw.get("status", "estimate"),
    }  # fmt: skip


def footprint_rows() -> pd.DataFrame:
    """Every factor row (see the module docstring)."""
    products = _products()
    comp = _composition()
    weight = dict(zip(products["unu_key"], products["unit_weight_kg"].astype(float), strict=True))
    plastics = comp[comp["element"] == "plastics"].set_index("product")["central_g_per_t"] / 1e6
    adp_cf = {el: v[2] for el, v in ELEMENTS.items()}
    metals = comp[comp["element"].isin(list(adp_cf))]
    adp = {
        side: (metals[f"{side}_g_per_t"] / 1e6 * metals["element"].map(adp_cf))
        .groupby(metals["product"])
        .sum()
        for side in ("low", "central", "high")
    }
    rows: list[dict] = []
    for key in products["unu_key"]:
        w = weight[key]
        if key in ANCHORS:
            lo, c, hi, year, src = ANCHORS[key]
        else:
            ilo, ic, ihi, note = INTENSITY[key]
            lo, c, hi, year = ilo * w, ic * w, ihi * w, 2015
            src = (f"{EST}category intensity {ic:g} kg CO2e/kg ({ilo:g}-{ihi:g}; {note}; "
                   f"ecoinvent-based appliance LCAs, {REC}) x unit weight {w:g} kg")  # fmt: skip
        rows.append(_row(key, "embodied_kg_co2e_per_piece", "kg CO2e/piece", lo, c, hi,
                         reference_year=year, boundary=GATE, source=src,
                         status="estimate"))  # fmt: skip
        rows.append(_row(key, "primary_energy_mj_per_piece", "MJ/piece", lo * 10, c * 13, hi * 16,
                         reference_year=year, boundary=GATE,
                         source=f"{EST}embodied GHG x 13 MJ per kg CO2e (10-16; named "
                         "assumption primary_energy_per_ghg)"))  # fmt: skip
        ratio = (0.01, 0.03, 0.08) if key in ICT else (0.005, 0.015, 0.04)
        rows.append(_row(key, "water_m3_per_piece", "m3/piece", lo * ratio[0], c * ratio[1],
                         hi * ratio[2], reference_year=year,
                         boundary="cradle-to-gate blue water consumption",
                         source=f"{EST}embodied GHG x {ratio[1]:g} m3 per kg CO2e "
                         f"({ratio[0]:g}-{ratio[2]:g}; named assumption "
                         "water_per_ghg)"))  # fmt: skip
        rows.append(_row(key, "adp_kg_sb_eq_per_piece", "kg Sb-eq/piece",
                         adp["low"].get(key, 0.0) * w, adp["central"].get(key, 0.0) * w,
                         adp["high"].get(key, 0.0) * w, reference_year=2016,
                         boundary="elements contained in the product (process materials "
                         "excluded)",
                         source=f"{EST}contained elements of composition.csv x {CML}"))  # fmt: skip
        ulo, uc, uhi, unote = USE[key]
        rows.append(_row(key, "use_kwh_per_piece_year", "kWh/piece/year", ulo, uc, uhi,
                         reference_year=2019, boundary="use phase: electricity at the plug",
                         source=f"{EST}{unote} ({ECODESIGN})"))  # fmt: skip
        for frm, to, subst, kg, note in VINTAGES.get(key, []):
            kind = "foam" if subst in FOAM else "circuit"
            rlo, rc, rhi = REMAINING[kind]
            rows.append(_row(key, "refrigerant_kg_per_piece", "kg/piece", kg * 0.7 * rlo,
                             kg * rc, kg * 1.3 * rhi, substance=subst, from_year=frm,
                             to_year=to, boundary="content of the discarded product",
                             source=f"{EST}{note}, x {rc:g} of the charge remaining at end of "
                             f"life ({rlo:g}-{rhi:g}; {IPCC_GL}) ({MONTREAL})"))  # fmt: skip
        for frm, to, c_hg, lo_hg, hi_hg, note in MERCURY.get(key, []):
            rows.append(_row(key, "mercury_mg_per_piece", "mg/piece", lo_hg, c_hg, hi_hg,
                             substance="Hg", from_year=frm, to_year=to,
                             boundary="content of the discarded product",
                             source=f"{EST}{note}"))  # fmt: skip
        blo, bc, bhi = BFR.get(key, BFR_DEFAULT)
        pl = float(plastics.get(key, 0.0)) * w
        rows.append(_row(key, "bfr_plastics_kg_per_piece", "kg/piece", pl * blo, pl * bc,
                         pl * bhi, boundary="content of the discarded product",
                         source=f"{EST}plastics {pl:.3g} kg per piece (composition.csv) x "
                         f"BFR-bearing share {bc:g} ({blo:g}-{bhi:g}; {BFR_NOTE})"))  # fmt: skip
    out = pd.DataFrame(rows)
    for col in ("from_year", "to_year", "reference_year"):
        out[col] = out[col].astype("Int64")
    return out


def gwp_rows() -> pd.DataFrame:
    """GWP100 of every refrigerant and blowing agent used above."""
    return pd.DataFrame(
        [
            {
                "substance": s,
                "gwp100": round(v, 1),
                "note": GWP_NOTES.get(s, "pure substance"),
                "source": AR6,
                "status": "estimate" if s in ("R-600a", "R-290") else "published",
            }
            for s, v in GWP.items()
        ]
    )


def element_rows() -> pd.DataFrame:
    """Primary and secondary GHG and ADP factors per element."""
    rows = []
    for el, (prim, share, cf) in ELEMENTS.items():
        rows.append(
            {
                "element": el,
                "factor": "primary_kg_co2e_per_kg",
                "low": prim * 0.7,
                "central": prim,
                "high": prim * 1.3,
                "source": NUSS,
                "status": "estimate",
            }
        )
        rows.append(
            {
                "element": el,
                "factor": "secondary_kg_co2e_per_kg",
                "low": prim * share * 0.5,
                "central": prim * share,
                "high": min(prim * share * 2.0, prim),
                "source": SECONDARY,
                "status": "estimate",
            }
        )
        rows.append({"element": el, "factor": "adp_kg_sb_eq_per_kg", "low": cf, "central": cf,
                     "high": cf, "source": CML, "status": "estimate"})  # fmt: skip
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DATA)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    for name, table in (
        ("footprint_factors.csv", footprint_rows()),
        ("refrigerant_gwp.csv", gwp_rows()),
        ("element_footprint.csv", element_rows()),
    ):
        table.to_csv(args.out / name, index=False, float_format="%.6g")
        logger.info("wrote %s (%d rows)", args.out / name, len(table))


if __name__ == "__main__":
    main()
