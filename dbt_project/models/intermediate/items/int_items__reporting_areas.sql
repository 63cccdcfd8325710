{#-
    The area (町名) each child in scope is counted under in every published aggregate
    (flag_disparity, flag_cells; docs/disclosure.md). A child without a 町名 — above all a child
    under a DV protection measure (支援措置), whose address is withheld — never forms a category
    of its own ("不明" was exactly the 支援措置 children): it is counted under an area drawn by a
    fixed rule, in proportion to the areas' children in scope, from the md5 of its 宛名番号
    (the same area every month while the areas' shares stay the same). The drawn area is not
    where the child lives and is never shown for a child: only sums over areas use it.
-#}
with

children as (

    select * from {{ ref('int_items__children') }}

),

known as (

    select person_id, area
    from children
    where area is not null

),

areas as (

    select
        area,
        count(*) as children
    from known
    group by area

),

shares as (

    select
        area,
        (sum(children) over (order by area) - children)::numeric / sum(children) over () as lower_share,
        sum(children) over (order by area)::numeric / sum(children) over () as upper_share
    from areas

),

{#- a number in [0, 1) from the first 32 bits of md5(宛名番号): uniform and fixed per child -#}
draws as (

    select
        person_id,
        ('x' || substr(md5(person_id), 1, 8))::bit(32)::bigint::numeric / 4294967296 as draw
    from children
    where area is null

),

drawn as (

    select
        draws.person_id,
        {#- no area known at all (a town without 町名): one category for everyone -#}
        coalesce(shares.area, '全域') as area
    from draws
    left join shares
        on draws.draw >= shares.lower_share
        and draws.draw < shares.upper_share

),

final as (

    select person_id, area as reporting_area
    from known
    union all
    select person_id, area
    from drawn

)

select * from final
