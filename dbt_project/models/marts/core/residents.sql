{#-
    The run month's residents (the spine, all ages) for the case screen: who a child lives with.
    The address is never published for a household with a member under a DV protection measure
    (支援措置), nor for anyone sharing such a member's address (domain.md §1).
-#}
with

residents as (

    select * from {{ ref('stg_jumin__residents') }}
    where resident_since <= {{ as_of_date() }}

),

protected_households as (

    select distinct setai_no from residents where has_dv_protection

),

protected_addresses as (

    select distinct address_norm from residents where has_dv_protection

),

final as (

    select
        residents.atena_no as person_id,
        residents.setai_no as household_id,
        residents.name,
        residents.name_kana,
        residents.sex,
        residents.relationship,
        case
            when protected_households.setai_no is null and protected_addresses.address_norm is null
                then residents.address
        end as address,
        {{ age_on('residents.birth_date', as_of_date()) }} as age,
        coalesce(residents.has_dv_protection, false) as has_dv_protection,
        (protected_households.setai_no is not null or protected_addresses.address_norm is not null)
            as is_address_withheld,
        residents.birth_date,
        {{ as_of_date() }} as as_of_date,
        residents.run_month
    from residents
    left join protected_households
        on residents.setai_no = protected_households.setai_no
    left join protected_addresses
        on residents.address_norm = protected_addresses.address_norm

)

select * from final
