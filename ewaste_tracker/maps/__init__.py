"""maps: the geospatial layer.

Geometries and joins (geopandas/shapely), population grids and downscaling (rasterio),
road networks and collection-site planning (osmnx, HiGHS), and folium rendering that works
offline. Takes tidy tables in and gives (Geo)DataFrames and maps out.
"""
