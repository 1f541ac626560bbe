"""The pages: who sees what, the public page's content, escaping, the organizer's flow."""
import re

import pytest

from app.campaigns.models import CampaignStatus
from tests.campaigns.helpers import form_data, stored_files
from tests.campaigns.images import jpeg_bytes, upload
from tests.factories import CampaignFactory, UserFactory
from tests.factories_plugin import add_cover


def page(response) -> str:
    return response.get_data(as_text=True)


# --- who sees what ----------------------------------------------------------------------------

def test_draft_is_seen_by_its_organizer_and_staff_only(app, db, draft_campaign, patient_client,
                                                       client, staff_client):
    url = f"/c/{draft_campaign.id}"
    assert patient_client.get(url).status_code == 200
    assert staff_client.get(url).status_code == 200
    assert client.get(url).status_code == 404
    stranger = app.test_client(user=UserFactory())
    assert stranger.get(url).status_code == 404


def test_staff_id_equal_to_organizer_id_is_not_the_organizer(app, db, staff, patient):
    """User and staff ids are separate sequences; a staff id matching must not unlock editing."""
    campaign = CampaignFactory(organizer=patient)
    assert staff.id == patient.id  # both first rows of their tables
    staff_client = app.test_client(user=staff)
    assert staff_client.get(f"/c/{campaign.id}/edit").status_code == 403


@pytest.mark.parametrize("path", ["/c/{id}/edit", "/c/{id}/submit", "/c/{id}/photos",
                                  "/c/{id}/photos/{photo}/delete", "/c/{id}/photos/{photo}/cover"])
def test_someone_elses_draft_is_not_found(app, db, draft_campaign, path):
    stranger = app.test_client(user=UserFactory())
    url = path.format(id=draft_campaign.id, photo=draft_campaign.cover.id)
    response = stranger.get(url) if path.endswith("edit") else stranger.post(url)
    assert response.status_code == 404
    db.session.refresh(draft_campaign)
    assert draft_campaign.status == CampaignStatus.draft and len(draft_campaign.photos) == 1


def test_sign_in_required_for_organizer_pages(client):
    for url in ("/campaigns/new", "/me/campaigns"):
        response = client.get(url)
        assert response.status_code in (302, 401)
        if response.status_code == 302:
            assert "/auth/login" in response.headers["Location"]


def test_unknown_campaign_is_404(client):
    assert client.get("/c/999999").status_code == 404


# --- the public page --------------------------------------------------------------------------

def test_public_page_shows_what_a_donor_needs(db, client, live_campaign):
    html = page(client.get(f"/c/{live_campaign.id}"))
    assert live_campaign.title in html
    assert "王**" in html and "王小明" not in html
    assert "北京儿童医院" in html and "急性淋巴细胞白血病" in html
    assert "¥<strong>0</strong>" in html and "目标 ¥300,000" in html
    assert 'class="progress"' in html and "帮助次数" in html
    assert "30 天" in html
    assert 'href="#donate"' in html and 'id="donate"' in html and "data-share" in html
    assert "家庭经济状况" in html and "无房产" in html and "基本医疗保险" in html
    assert f"/photos/{live_campaign.cover.storage_key}.jpg" in html


def test_story_is_escaped_and_paragraphs_kept(app, db, patient, staff, client):
    from app.campaigns.services import approve_campaign, submit_campaign

    story = '第一段<script>alert("x")</script>\r\n\r\n第二段 <b>粗</b>\n第三段'
    campaign = add_cover(CampaignFactory(organizer=patient, story=story), patient)
    submit_campaign(campaign, by_user=patient)
    approve_campaign(campaign, by_staff=staff)
    html = page(client.get(f"/c/{campaign.id}"))
    assert "<script>alert" not in html and "<b>粗</b>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert re.search(r"<p>第一段&lt;script&gt;.*?</p>"
                     r"<p>第二段 &lt;b&gt;粗&lt;/b&gt;</p><p>第三段</p>", html)


def test_ended_campaign_has_no_donate_button(db, client, live_campaign):
    from app.campaigns.services import end_campaign

    end_campaign(live_campaign, reason="筹款期限已到")
    html = page(client.get(f"/c/{live_campaign.id}"))
    assert 'href="#donate"' not in html and "筹款已结束" in html


# --- the organizer's flow ---------------------------------------------------------------------

def test_mine_lists_only_my_campaigns(db, patient_client, patient, live_campaign):
    CampaignFactory(organizer=UserFactory(), title="别人的筹款标题")
    html = page(patient_client.get("/me/campaigns"))
    assert live_campaign.title in html and "别人的筹款标题" not in html


def test_edit_submit_flow(db, patient_client, patient):
    response = patient_client.post("/campaigns/new", data=dict(
        form_data(), cover=upload(jpeg_bytes())), content_type="multipart/form-data")
    campaign_id = int(response.headers["Location"].rsplit("/", 1)[1])
    edit = page(patient_client.get(f"/c/{campaign_id}/edit"))
    assert 'value="北京儿童医院"' in edit and 'value="300000"' in edit
    response = patient_client.post(f"/c/{campaign_id}/edit", data=form_data(hospital="华西医院"),
                                   content_type="multipart/form-data")
    assert response.status_code == 302
    response = patient_client.post(f"/c/{campaign_id}/submit", follow_redirects=True)
    assert "提交前请上传" in page(response)  # documents come first (tests/review)
    from app.campaigns.models import Campaign
    from tests.review.helpers import add_documents, add_identity

    add_documents(db.session.get(Campaign, campaign_id), patient)
    add_identity(db.session.get(Campaign, campaign_id), patient)
    response = patient_client.post(f"/c/{campaign_id}/submit", follow_redirects=True)
    assert "已提交审核" in page(response)
    from app.campaigns.models import Campaign

    campaign = db.session.get(Campaign, campaign_id)
    assert campaign.status == CampaignStatus.submitted and campaign.hospital == "华西医院"
    response = patient_client.get(f"/c/{campaign_id}/edit", follow_redirects=True)
    assert "不能再修改" in page(response)


def test_edit_with_bad_input_changes_nothing(db, patient_client, draft_campaign):
    before = stored_files()
    response = patient_client.post(
        f"/c/{draft_campaign.id}/edit", content_type="multipart/form-data",
        data=dict(form_data(title="短", hospital="新医院"), cover=upload(jpeg_bytes())))
    assert response.status_code == 422 and "标题需要 5 到 60 个字" in page(response)
    db.session.refresh(draft_campaign)
    assert draft_campaign.hospital == "北京儿童医院" and len(draft_campaign.photos) == 1
    assert stored_files() == before


def test_submit_without_photo_explains(db, patient_client, patient):
    campaign = CampaignFactory(organizer=patient)
    html = page(patient_client.post(f"/c/{campaign.id}/submit", follow_redirects=True))
    assert "请至少上传一张照片" in html
    assert campaign.status == CampaignStatus.draft


def test_photo_upload_remove_and_cover_views(db, patient_client, draft_campaign):
    url = f"/c/{draft_campaign.id}"
    response = patient_client.post(f"{url}/photos", content_type="multipart/form-data",
                                   data={"photos": [upload(jpeg_bytes()), upload(jpeg_bytes())]})
    assert response.status_code == 302
    db.session.refresh(draft_campaign)
    assert len(draft_campaign.photos) == 3
    second = draft_campaign.photos[1]
    patient_client.post(f"{url}/photos/{second.id}/cover")
    db.session.refresh(draft_campaign)
    assert draft_campaign.cover.id == second.id
    patient_client.post(f"{url}/photos/{second.id}/delete")
    db.session.refresh(draft_campaign)
    assert [p.id for p in draft_campaign.photos].count(second.id) == 0
    assert len(draft_campaign.photos) == 2
    bad = patient_client.post(f"{url}/photos", content_type="multipart/form-data",
                              data={"photos": [upload(b"not an image", "x.jpg")]},
                              follow_redirects=True)
    assert "无法识别该文件" in page(bad)


def test_photo_is_served_with_long_cache(db, client, live_campaign):
    response = client.get(f"/photos/{live_campaign.cover.storage_key}.jpg")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert response.data[:3] == b"\xff\xd8\xff"
    cache = response.headers["Cache-Control"]
    assert "public" in cache and "max-age=31536000" in cache and "immutable" in cache
    assert client.get("/photos/" + "0" * 32 + ".jpg").status_code == 404
    assert client.get("/photos/..%2f..%2fetc%2fpasswd.jpg").status_code == 404


# --- explore ----------------------------------------------------------------------------------

def make_live(patient, staff, **fields):
    from app.campaigns.services import approve_campaign, submit_campaign

    campaign = add_cover(CampaignFactory(organizer=patient, **fields), patient)
    submit_campaign(campaign, by_user=patient)
    return approve_campaign(campaign, by_staff=staff)


def test_explore_lists_live_campaigns_and_searches(db, client, patient, staff):
    make_live(patient, staff, title="小明的白血病求助", patient_name="甲")
    make_live(patient, staff, title="爸爸车祸重伤", diagnosis="颅脑损伤", hospital="华西医院",
              patient_name="乙")
    CampaignFactory(organizer=patient, title="草稿里的白血病求助", patient_name="丙")
    html = page(client.get("/campaigns"))
    assert "小明的白血病求助" in html and "爸爸车祸重伤" in html and "草稿里的" not in html
    html = page(client.get("/campaigns", query_string={"q": "华西"}))
    assert "爸爸车祸重伤" in html and "小明的白血病求助" not in html
    html = page(client.get("/campaigns", query_string={"q": "急性淋巴"}))
    assert "小明的白血病求助" in html and "爸爸车祸重伤" not in html
    html = page(client.get("/campaigns", query_string={"q": "%"}))
    assert "没有找到相关的筹款" in html
    html = page(client.get("/campaigns", query_string={"q": "<i>x</i>"}))
    assert "<i>x</i>" not in html and "&lt;i&gt;x&lt;/i&gt;" in html


def test_explore_paginates(db, client, patient, staff):
    for n in range(12):
        make_live(patient, staff, title=f"筹款编号{n:02d}号", patient_name=f"患者{n}")
    first = page(client.get("/campaigns"))
    assert "第 1 / 2 页" in first and "筹款编号11号" in first and "筹款编号01号" not in first
    second = page(client.get("/campaigns?page=2"))
    assert "筹款编号01号" in second and "筹款编号11号" not in second
    assert client.get("/campaigns?page=99").status_code == 200
    assert client.get("/campaigns?page=abc").status_code == 200


def test_explore_shows_recently_ended_campaigns_below_the_live_ones(db, client, patient, staff):
    from app.campaigns.services import end_campaign

    html = page(client.get("/campaigns"))
    assert "暂时没有正在筹款的求助" in html and "已结束的筹款" not in html
    ended = make_live(patient, staff, title="已经筹满的求助", patient_name="甲")
    end_campaign(ended, "目标已达成")
    make_live(patient, staff, title="还在筹款的求助", patient_name="乙")
    html = page(client.get("/campaigns"))
    assert html.index("还在筹款的求助") < html.index("已结束的筹款") < html.index("已经筹满的求助")
    assert "暂时没有正在筹款的求助" not in html
    assert "已结束的筹款" not in page(client.get("/campaigns", query_string={"q": "筹满"}))


def test_forms_need_the_csrf_token(app, db, patient_client, staff_client, submitted_campaign,
                                   monkeypatch):
    from tests.campaigns.helpers import count_campaigns

    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    before = count_campaigns()
    response = patient_client.post("/campaigns/new", data=form_data(),
                                   content_type="multipart/form-data")
    assert response.status_code == 400 and "页面已过期" in page(response)
    assert count_campaigns() == before
    assert staff_client.post(f"/staff/campaigns/{submitted_campaign.id}/approve").status_code == 400
    db.session.refresh(submitted_campaign)
    assert submitted_campaign.status == CampaignStatus.submitted
    html = page(patient_client.get("/campaigns/new"))
    assert 'name="csrf_token"' in html
