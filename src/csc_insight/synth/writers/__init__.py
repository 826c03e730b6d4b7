"""Writers for each source format (SSDA903 CSV, CIN census XML, Annex A xlsx, local CSV)."""
