with

submissions as (

    select * from {{ source('raw', 'submissions') }}

),

final as (

    select
        submission_id,
        file_name,
        file_path,
        sha256,
        size_bytes,
        upper(country_code) as country_code,
        source,
        period,
        reference_year,
        coalesce(first_month, 1) as first_month,
        coalesce(last_month, 12) as last_month,
        layout,
        institution,
        contact,
        submitted_on,
        version,
        notes,
        nullif(obs_flag, '') as obs_flag,
        filename_country,
        filename_year,
        received_at,
        loaded_at,
        status as load_status,
        status = 'rejected' as is_rejected,
        error_message,
        error_message_es,
        error_sheet,
        error_cell,
        error_rule,
        tolerance_absolute,
        tolerance_relative

    from submissions

)

select * from final
