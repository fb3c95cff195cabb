{{ stage_source_cells('asylum') }}
