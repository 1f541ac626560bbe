"""The campaign form: every field checked with a Chinese message; photos checked by content.

Validated photos are kept on the form (`form.processed_cover`, `form.processed_photos`) as
re-encoded images in memory; nothing touches the disk until the service saves the campaign.
Photos already uploaded to the pending-photo store (app/campaigns/pending_photos.py) come back as
ids (`held_cover`, `held_photos`), checked to be the organizer's own.
"""
from __future__ import annotations

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import (
    FileField,
    MultipleFileField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from app.campaigns.models import (
    CAR_CHOICES,
    DEFAULT_DURATION_DAYS,
    HOUSE_CHOICES,
    MAX_DURATION_DAYS,
    MAX_PHOTOS,
    MIN_DURATION_DAYS,
    RELATIONS,
    SAVINGS_CHOICES,
    TARGET_MAX_FEN,
    TARGET_MIN_FEN,
    Campaign,
)
from app.campaigns.errors import CampaignError
from app.campaigns.pending_photos import PendingPhoto, as_image, pending_of
from app.campaigns.photos import PhotoError, ProcessedImage, process_upload
from app.models_base import format_yuan, yuan_to_fen

YES_NO = [("yes", "有"), ("no", "无")]
STORY_MIN, STORY_MAX = 20, 5000


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _choice(label: str, choices, message: str) -> SelectField:
    return SelectField(label, choices=[("", "请选择")] + list(choices),
                       validators=[DataRequired(message)], validate_choice=False)


def target_range_fen() -> tuple[int, int]:
    """The targets a new campaign may ask for: from TARGET_MIN_FEN to the configured cap
    (公约 2.0: ¥500,000 for one request; CAMPAIGN_TARGET_CAP_FEN)."""
    cap = int(current_app.config.get("CAMPAIGN_TARGET_CAP_FEN", TARGET_MAX_FEN))
    return TARGET_MIN_FEN, min(cap, TARGET_MAX_FEN)


def target_range_text() -> str:
    low, high = target_range_fen()
    return f"¥{format_yuan(low)} – ¥{format_yuan(high)}"


def _held_ids(values) -> list[int]:
    ids = []
    for value in values or []:
        text = str(value).strip()
        if not text.isascii() or not text.isdigit() or len(text) > 12:
            raise ValidationError("照片信息有误，请重新选择照片")
        ids.append(int(text))
    return ids


def _uploaded(storages) -> list:
    return [s for s in (storages or []) if s is not None and getattr(s, "filename", "")]


class CampaignForm(FlaskForm):
    title = StringField("筹款标题", filters=[_strip], validators=[
        DataRequired("请填写筹款标题"), Length(5, 60, "标题需要 5 到 60 个字")])
    patient_name = StringField("患者姓名", filters=[_strip], validators=[
        DataRequired("请填写患者姓名"), Length(2, 32, "患者姓名需要 2 到 32 个字")])
    relation = _choice("您与患者的关系", RELATIONS, "请选择您与患者的关系")
    diagnosis = StringField("所患疾病", filters=[_strip], validators=[
        DataRequired("请填写所患疾病"), Length(2, 100, "疾病名称需要 2 到 100 个字")])
    hospital = StringField("就诊医院", filters=[_strip], validators=[
        DataRequired("请填写就诊医院"), Length(2, 100, "医院名称需要 2 到 100 个字")])
    target_yuan = StringField("目标金额（元）", filters=[_strip], validators=[
        DataRequired("请填写目标金额")])
    duration_days = StringField("筹款天数", filters=[_strip], default=str(DEFAULT_DURATION_DAYS),
                                validators=[DataRequired("请填写筹款天数")])
    story = TextAreaField("求助故事", filters=[_strip], validators=[
        DataRequired("请填写求助故事"),
        Length(STORY_MIN, STORY_MAX, f"求助故事需要 {STORY_MIN} 到 {STORY_MAX} 个字")])
    house = _choice("房产", HOUSE_CHOICES, "请选择家庭房产情况")
    car = _choice("车辆", CAR_CHOICES, "请选择家庭车辆情况")
    savings = _choice("存款", SAVINGS_CHOICES, "请选择家庭存款情况")
    medical_insurance = RadioField("基本医疗保险", choices=YES_NO, validate_choice=False,
                                   validators=[InputRequired("请选择是否有基本医疗保险")])
    commercial_insurance = RadioField("商业保险", choices=YES_NO, validate_choice=False,
                                      validators=[InputRequired("请选择是否有商业保险")])
    disclosure_note = TextAreaField("其他说明（选填）", filters=[_strip], validators=[
        Optional(), Length(max=300, message="其他说明不能超过 300 个字")])
    # Photos already uploaded (pending-photo store): ids, checked to be the organizer's own.
    held_cover = SelectMultipleField("已选封面", validate_choice=False, coerce=str)
    held_photos = SelectMultipleField("已选照片", validate_choice=False, coerce=str)
    cover = FileField("封面照片")
    photos = MultipleFileField("更多照片")

    def __init__(self, *args, existing_photos: int = 0, organizer_id: int | None = None,
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.existing_photos = existing_photos
        self.organizer_id = organizer_id
        self.processed_cover: ProcessedImage | None = None
        self.processed_photos: list[ProcessedImage] = []
        self.held_cover_photo: PendingPhoto | None = None
        self.held_photo_list: list[PendingPhoto] = []

    # -- choices: checked here so the message is Chinese ------------------------------------
    def validate_relation(self, field):
        _check_choice(field, RELATIONS, "请选择您与患者的关系")

    def validate_house(self, field):
        _check_choice(field, HOUSE_CHOICES, "请选择家庭房产情况")

    def validate_car(self, field):
        _check_choice(field, CAR_CHOICES, "请选择家庭车辆情况")

    def validate_savings(self, field):
        _check_choice(field, SAVINGS_CHOICES, "请选择家庭存款情况")

    def validate_medical_insurance(self, field):
        _check_choice(field, YES_NO, "请选择是否有基本医疗保险")

    def validate_commercial_insurance(self, field):
        _check_choice(field, YES_NO, "请选择是否有商业保险")

    # -- numbers ------------------------------------------------------------------------------
    def validate_target_yuan(self, field):
        low, high = target_range_fen()
        text = (field.data or "").replace(",", "").replace("，", "").replace(" ", "")
        try:
            fen = yuan_to_fen(text.lstrip("-+－"))
        except ValueError:
            raise ValidationError(f"目标金额请填写 {target_range_text()} 之间的数字，"
                                  f"例如 100000") from None
        if text[:1] in "-－" or not low <= fen <= high:
            raise ValidationError(f"目标金额需在 {target_range_text()} 之间")

    def validate_duration_days(self, field):
        text = field.data or ""
        if not text.isascii() or not text.isdigit():
            raise ValidationError("筹款天数请填写整数")
        if not MIN_DURATION_DAYS <= int(text) <= MAX_DURATION_DAYS:
            raise ValidationError(f"筹款天数需在 {MIN_DURATION_DAYS} 到 {MAX_DURATION_DAYS} 天之间")

    # -- photos -------------------------------------------------------------------------------
    def validate_held_cover(self, field):
        held = self._held(field)
        self.held_cover_photo = held[-1] if held else None

    def validate_held_photos(self, field):
        cover_id = self.held_cover_photo.id if self.held_cover_photo else None
        self.held_photo_list = [p for p in self._held(field) if p.id != cover_id]

    def _held(self, field) -> list[PendingPhoto]:
        ids = _held_ids(field.data)
        if ids and self.organizer_id is None:
            raise ValidationError("照片信息有误，请重新选择照片")
        try:
            return pending_of(self.organizer_id, ids) if ids else []
        except CampaignError as error:
            field.data = []
            raise ValidationError(error.message) from None

    def validate_cover(self, field):
        files = _uploaded([field.data])
        if files:
            self.processed_cover = _process(files[0])

    def validate_photos(self, field):
        files = _uploaded(field.data)
        fresh_cover = bool(_uploaded([self.cover.data]))
        held = len(self.held_photo_list) + (
            1 if self.held_cover_photo is not None and not fresh_cover else 0)
        incoming = len(files) + fresh_cover + held
        if self.existing_photos + incoming > MAX_PHOTOS:
            raise ValidationError(f"最多上传 {MAX_PHOTOS} 张照片（已有 "
                                  f"{self.existing_photos + held} 张）")
        errors = []
        for storage in files:
            try:
                self.processed_photos.append(_process(storage))
            except ValidationError as error:
                errors.append(str(error))
        if errors:
            raise ValidationError("；".join(errors))

    def held_ids(self) -> list[int]:
        cover = [self.held_cover_photo] if self.held_cover_photo else []
        return [photo.id for photo in cover + self.held_photo_list]

    def ordered_images(self) -> list[ProcessedImage]:
        """Every photo of a new campaign, the cover first: a freshly chosen cover replaces the
        held one (which then joins the other photos), then held photos, then fresh ones.
        Raises CampaignError if a held photo's file is gone."""
        return [as_image(p) if isinstance(p, PendingPhoto) else p for p in self._ordered()]

    def _ordered(self) -> list[ProcessedImage | PendingPhoto]:
        cover = self.processed_cover or self.held_cover_photo
        rest: list[ProcessedImage | PendingPhoto] = []
        if self.processed_cover is not None and self.held_cover_photo is not None:
            rest.append(self.held_cover_photo)
        rest += self.held_photo_list
        rest += self.processed_photos
        return ([cover] if cover is not None else []) + rest

    def fresh_images(self) -> list[ProcessedImage]:
        """The photos uploaded with this submission (cover first), to hold when it is refused."""
        return ([self.processed_cover] if self.processed_cover else []) + self.processed_photos

    def keep_held(self, held: list[PendingPhoto]) -> None:
        """After the refused submission's fresh photos were held: carry them like the others."""
        if self.processed_cover is not None and held:
            if self.held_cover_photo is not None:
                self.held_photo_list.insert(0, self.held_cover_photo)
            self.held_cover_photo, held = held[0], held[1:]
        self.held_photo_list += held
        self.processed_cover, self.processed_photos = None, []
        self.held_cover.data = [str(self.held_cover_photo.id)] if self.held_cover_photo else []
        self.held_photos.data = [str(p.id) for p in self.held_photo_list]

    # -- to and from the model ----------------------------------------------------------------
    def campaign_data(self) -> dict:
        return {
            "title": self.title.data, "patient_name": self.patient_name.data,
            "relation": self.relation.data, "diagnosis": self.diagnosis.data,
            "hospital": self.hospital.data, "target_fen": yuan_to_fen(self.target_yuan.data),
            "duration_days": int(self.duration_days.data), "story": self.story.data,
            "house": self.house.data, "car": self.car.data, "savings": self.savings.data,
            "has_medical_insurance": self.medical_insurance.data == "yes",
            "has_commercial_insurance": self.commercial_insurance.data == "yes",
            "disclosure_note": self.disclosure_note.data or "",
        }

    def fill_from(self, campaign: Campaign) -> None:
        for name in ("title", "patient_name", "relation", "diagnosis", "hospital", "story",
                     "house", "car", "savings", "disclosure_note"):
            getattr(self, name).data = getattr(campaign, name)
        self.target_yuan.data = format_yuan(campaign.target_fen).replace(",", "")
        self.duration_days.data = str(campaign.duration_days)
        self.medical_insurance.data = "yes" if campaign.has_medical_insurance else "no"
        self.commercial_insurance.data = "yes" if campaign.has_commercial_insurance else "no"


class PhotoUploadForm(FlaskForm):
    photos = MultipleFileField("添加照片")

    def __init__(self, *args, existing_photos: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        self.existing_photos = existing_photos
        self.processed_photos: list[ProcessedImage] = []

    def validate_photos(self, field):
        files = _uploaded(field.data)
        if not files:
            raise ValidationError("请选择要上传的照片")
        if self.existing_photos + len(files) > MAX_PHOTOS:
            raise ValidationError(f"最多上传 {MAX_PHOTOS} 张照片（已有 {self.existing_photos} 张）")
        self.processed_photos = [_process(storage) for storage in files]


class ActionForm(FlaskForm):
    """A button that posts (submit, remove photo…): only the CSRF token."""


def _check_choice(field, choices, message: str) -> None:
    if field.data not in {value for value, _ in choices}:
        raise ValidationError(message)


def _process(storage) -> ProcessedImage:
    try:
        return process_upload(storage)
    except PhotoError as error:
        name = (storage.filename or "图片")[:40]
        raise ValidationError(f"{name}：{error}") from None
