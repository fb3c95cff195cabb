{{ stage_source_cells('irregular_foreigners') }}
