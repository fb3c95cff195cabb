{{ stage_source_cells('residence_permits') }}
