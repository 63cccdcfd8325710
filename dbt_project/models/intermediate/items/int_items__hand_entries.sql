{#-
    The hand entry in force per child and item on the as-of date (domain.md §6): the latest
    non-superseded entry whose as_of_date is on or before the as-of date and still within the
    item's look-back (a "this month" item only in its month; "valid" items until corrected).
-#}
with

hand_entries as (

    select * from {{ source('judgement_casework', 'hand_entries') }}
    where superseded_by is null

),

catalogue as (

    select * from {{ ref('item_catalogue') }}

),

in_force as (

    select
        hand_entries.*,
        {{ as_of_date() }} as run_as_of_date
    from hand_entries
    inner join catalogue
        on hand_entries.item_code = catalogue.item_code
    where hand_entries.as_of_date <= {{ as_of_date() }}
        and case
            when catalogue.lookback = 'this_month'
                then hand_entries.as_of_date >= date_trunc('month', {{ as_of_date() }})::date
            else {{ within_lookback(
                'catalogue.lookback', 'hand_entries.as_of_date', 'hand_entries.as_of_date', 'null::date', as_of_date()
            ) }}
        end

),

final as (

    select distinct on (person_id, item_code)
        hand_entry_id,
        person_id,
        item_code,
        origin,
        entered_by,
        correction_reason,
        value,
        as_of_date,
        entered_at
    from in_force
    order by person_id asc, item_code asc, as_of_date desc, entered_at desc, hand_entry_id desc

)

select * from final
