{{ stage_source_cells('work_permits') }}
