"""Forms of a live campaign's changes and its early end: every field checked with a Chinese
message; new photos re-encoded as the campaign form does (app/campaigns/forms.py)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import MultipleFileField, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from app.campaigns.change_models import EndReason, LeftoverRoute
from app.campaigns.changes import REASON_MAX, REASON_MIN
from app.campaigns.ending import NOTE_MAX
from app.campaigns.forms import STORY_MAX, STORY_MIN, _process, _strip, _uploaded
from app.campaigns.models import MAX_PHOTOS
from app.campaigns.photos import ProcessedImage


class LiveEditForm(FlaskForm):
    title = StringField("筹款标题", filters=[_strip], validators=[
        DataRequired("请填写筹款标题"), Length(5, 60, "标题需要 5 到 60 个字")])
    diagnosis = StringField("所患疾病", filters=[_strip], validators=[
        DataRequired("请填写所患疾病"), Length(2, 100, "疾病名称需要 2 到 100 个字")])
    hospital = StringField("就诊医院", filters=[_strip], validators=[
        DataRequired("请填写就诊医院"), Length(2, 100, "医院名称需要 2 到 100 个字")])
    story = TextAreaField("求助故事", filters=[_strip], validators=[
        DataRequired("请填写求助故事"),
        Length(STORY_MIN, STORY_MAX, f"求助故事需要 {STORY_MIN} 到 {STORY_MAX} 个字")])
    remove_photos = SelectMultipleField("删除照片", coerce=int, validate_choice=False)
    photos = MultipleFileField("新增照片")
    reason = TextAreaField("修改原因", filters=[_strip], validators=[
        DataRequired("请说明为什么修改（捐款人会在修改记录中看到）"),
        Length(REASON_MIN, REASON_MAX, f"修改原因需要 {REASON_MIN} 到 {REASON_MAX} 个字")])

    def __init__(self, *args, existing_photos: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        self.existing_photos = existing_photos
        self.processed_photos: list[ProcessedImage] = []

    def validate_remove_photos(self, field):
        if self.existing_photos and len(set(field.data or [])) >= self.existing_photos \
                and not _uploaded(self.photos.data):
            raise ValidationError("至少要保留一张照片作为封面")

    def validate_photos(self, field):
        files = _uploaded(field.data)
        kept = self.existing_photos - len(set(self.remove_photos.data or []))
        if kept + len(files) > MAX_PHOTOS:
            raise ValidationError(f"最多 {MAX_PHOTOS} 张照片（保留 {kept} 张）")
        self.processed_photos = [_process(storage) for storage in files]

    def fill_from(self, campaign) -> None:
        for name in ("title", "diagnosis", "hospital", "story"):
            getattr(self, name).data = getattr(campaign, name)

    def change_data(self) -> dict:
        return {name: getattr(self, name).data for name in ("title", "diagnosis", "hospital",
                                                            "story")}


class EndEarlyForm(FlaskForm):
    reason_kind = RadioField("结束原因", choices=[(r.value, r.label) for r in EndReason],
                             validate_choice=False,
                             validators=[InputRequired("请选择提前结束的原因")])
    note = TextAreaField("说明", filters=[_strip], validators=[
        Optional(), Length(max=NOTE_MAX, message=f"说明不能超过 {NOTE_MAX} 字")])
    route = RadioField("剩余善款", choices=[(r.value, r.label) for r in LeftoverRoute],
                       validate_choice=False,
                       validators=[InputRequired("请选择剩余善款的处理方式")])

    def validate_reason_kind(self, field):
        if field.data not in {r.value for r in EndReason}:
            raise ValidationError("请选择提前结束的原因")

    def validate_route(self, field):
        if field.data not in {r.value for r in LeftoverRoute}:
            raise ValidationError("请选择剩余善款的处理方式")

    def validate_note(self, field):
        if self.reason_kind.data == EndReason.other.value and len(field.data or "") < 5:
            raise ValidationError("选择“其他原因”时，请用至少 5 个字说明")
