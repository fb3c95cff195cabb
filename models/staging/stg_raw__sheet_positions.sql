with

sheet_positions as (

    select * from {{ source('raw', 'spec_sheet_positions') }}

),

final as (

    select
        layout,
        sheet,
        row_dimension,
        label_column,
        first_row,
        column_dimensions,
        header_rows

    from sheet_positions

)

select * from final
