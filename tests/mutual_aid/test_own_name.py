"""A member reads their own real name on their own pages: 赵六 已加入, not 赵* 已加入."""
from __future__ import annotations

from tests.mutual_aid.conftest import id_number


def test_joining_says_the_members_own_name(plan, donor_client):
    form = {"relation": "self", "real_name": "赵六", "id_number": id_number(), "accept_rules": "1",
            "accept_notice": "1"} | {f"q{i}": "no" for i in range(4)}
    response = donor_client.post(f"/mutual-aid/plans/{plan.slug}/join", data=form,
                                 follow_redirects=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "赵六 已加入" in html and "赵*" not in html
