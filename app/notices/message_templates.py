"""The WeChat template messages (类目模板) notices send; a deployment applies for each and gives
its id in WECHAT_TEMPLATE_IDS (docs/DEPLOYMENT.md). Fields: thing ≤ 20 characters, phrase ≤ 5;
personal data in their words (an update's first line, a reason) is masked before they are cut
(app/wechat/messages.py, FREE_TEXT_FIELDS)."""
from app.wechat.messages import MessageTemplate

MESSAGE_TEMPLATES = (
    MessageTemplate("review_result", "审核结果通知", ("thing1", "phrase2", "thing3")),
    MessageTemplate("campaign_status", "项目状态变更通知", ("thing1", "phrase2", "thing3")),
    MessageTemplate("campaign_update", "项目进展通知", ("thing1", "thing2", "time3")),
    MessageTemplate("withdrawal_status", "提现进度通知", ("thing1", "amount2", "phrase3", "thing4")),
    MessageTemplate("funds_disbursed", "善款拨付通知", ("thing1", "amount2", "thing3")),
    MessageTemplate("refund_done", "退款到账通知", ("thing1", "amount2", "thing3")),
    MessageTemplate("report_result", "举报处理结果通知", ("thing1", "phrase2", "thing3")),
    MessageTemplate("claim_result", "互助申请审核结果通知", ("thing1", "phrase2", "thing3")),
    MessageTemplate("case_notice", "互助病例公示通知", ("thing1", "thing2", "time3")),
)
