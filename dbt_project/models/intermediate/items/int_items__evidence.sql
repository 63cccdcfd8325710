{#-
    Child × item × evidence: the facts that make an item true for a child in scope, after the
    item's level and look-back (item_catalogue). C and M: the child's own records (M facts are
    keyed to the child's 妊産婦 row); H: any member of the child's household, the child included,
    and records keyed to the household's 世帯番号; O: the other members only.
-#}
with

children as (

    select * from {{ ref('int_items__children') }}

),

members as (

    select * from {{ ref('int_items__household_members') }}

),

facts as (

    select * from {{ ref('int_items__facts') }}

),

catalogue as (

    select * from {{ ref('item_catalogue') }}
    where is_enabled

),

corrections as (

    select * from {{ ref('int_items__corrections') }}

),

own as (

    select
        children.person_id,
        facts.item_code,
        children.person_id as via_person_id,
        facts.raw_table,
        facts.record_id,
        facts.detail,
        facts.event_date,
        facts.valid_from,
        facts.valid_through
    from children
    inner join facts
        on children.person_id = facts.person_id
    inner join catalogue
        on facts.item_code = catalogue.item_code
    where catalogue.level in ('C', 'M')

),

household_facts as (

    select
        members.person_id,
        members.is_self,
        facts.item_code,
        facts.person_id as via_person_id,
        facts.raw_table,
        facts.record_id,
        facts.detail,
        facts.event_date,
        facts.valid_from,
        facts.valid_through
    from members
    inner join facts
        on members.member_person_id = facts.person_id
    union all
    select
        members.person_id,
        members.is_self,
        facts.item_code,
        facts.person_id as via_person_id,
        facts.raw_table,
        facts.record_id,
        facts.detail,
        facts.event_date,
        facts.valid_from,
        facts.valid_through
    from (select distinct person_id, member_household_id, false as is_self from members) as members
    inner join facts
        on members.member_household_id = facts.household_id
        and facts.person_id is null

),

household as (

    select distinct
        household_facts.person_id,
        household_facts.item_code,
        household_facts.via_person_id,
        household_facts.raw_table,
        household_facts.record_id,
        household_facts.detail,
        household_facts.event_date,
        household_facts.valid_from,
        household_facts.valid_through
    from household_facts
    inner join catalogue
        on household_facts.item_code = catalogue.item_code
    where catalogue.level = 'H'
        or (catalogue.level = 'O' and not household_facts.is_self)

),

unioned as (

    select * from own
    union all
    select * from household

),

final as (

    select
        unioned.person_id,
        unioned.item_code,
        unioned.via_person_id,
        unioned.raw_table,
        unioned.record_id,
        unioned.detail,
        unioned.event_date,
        children.as_of_date,
        children.run_month
    from unioned
    inner join catalogue
        on unioned.item_code = catalogue.item_code
    inner join children
        on unioned.person_id = children.person_id
    where {{ within_lookback(
        'catalogue.lookback', 'unioned.event_date', 'unioned.valid_from', 'unioned.valid_through', 'children.as_of_date'
    ) }}
        and not exists (
            select 1
            from corrections
            where corrections.person_id = unioned.person_id
                and corrections.record_id = unioned.record_id
                and (corrections.kind = 'wrong_person' or corrections.item_code = unioned.item_code)
        )

)

select * from final
