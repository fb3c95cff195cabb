{{ stage_source_cells('returns') }}
