{{ stage_source_cells('entries_exits') }}
