{#-
    Child × household member, the child included (is_self). Household = same 世帯番号 in the run
    month's registry (domain.md §8); with candidate_settings.household_mode = same_address also the
    residents at the same address. Someone who moved out is not on this month's registry, so no
    longer a member.
-#}
with

children as (

    select * from {{ ref('int_items__children') }}

),

residents as (

    select * from {{ ref('int_items__residents') }}

),

settings as (

    select * from {{ ref('candidate_settings') }}

),

household_mode as (

    select coalesce(max(value) filter (where setting = 'household_mode'), 'setai') as mode
    from settings

),

{#- Who is a member: the same 世帯番号, and with household_mode = same_address also the same address. -#}
member_ids as (

    select children.person_id, residents.person_id as member_person_id
    from children
    inner join residents
        on children.household_id = residents.household_id
    union
    select children.person_id, residents.person_id as member_person_id
    from children
    inner join household_mode
        on household_mode.mode = 'same_address'
    inner join residents
        on children.address_key = residents.address_key

),

final as (

    select
        member_ids.person_id,
        residents.person_id as member_person_id,
        residents.household_id as member_household_id,
        residents.record_id as member_record_id,
        residents.birth_date as member_birth_date,
        member_ids.person_id = member_ids.member_person_id as is_self
    from member_ids
    inner join residents
        on member_ids.member_person_id = residents.person_id

)

select * from final
