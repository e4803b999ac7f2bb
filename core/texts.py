"""The catalogue of user-facing texts produced by the core (zh-CN).

Keys are stable identifiers; a second locale is a second dict with the same keys.
"""
from __future__ import annotations

from collections.abc import Mapping

__all__ = ["ZH_CN", "text"]

ZH_CN: Mapping[str, str] = {
    # validation
    "required": "此题为必答题，请填写。",
    "text.too_short": "内容太短：至少需要 {min} 个字，您输入了 {got} 个字。请重新输入。",
    "text.too_long": "内容太长：最多 {max} 个字，您输入了 {got} 个字。请精简后重新输入。",
    "integer.invalid": "请输入一个整数（例如 12），您输入的是「{raw}」。",
    "integer.too_small": "「{label}」不能小于 {min}，您输入的是 {got}。请重新输入。",
    "integer.too_large": "「{label}」不能大于 {max}，您输入的是 {got}。请重新输入。",
    "date.invalid": "无法识别的日期「{raw}」。请按 2025-08-15、2025/8/15、2025年8月15日 或 20250815 的格式输入。",
    "date.too_early": "日期不能早于 {min}。请重新输入。",
    "date.too_late": "日期不能晚于 {max}。请重新输入。",
    "year_month.invalid": "无法识别的年月「{raw}」。请按 2025-09、2025/9 或 2025年9月 的格式输入。",
    "year_month.too_early": "年月不能早于 {min}。请重新输入。",
    "year_month.too_late": "年月不能晚于 {max}。请重新输入。",
    "choice.invalid": "「{raw}」不是可选项。请从以下选项中选择：{options}。",
    "multi.too_few": "请至少选择 {min} 项，您选择了 {got} 项。",
    "multi.too_many": "最多只能选择 {max} 项，您选择了 {got} 项。",
    "multi.duplicate": "选项「{item}」重复了，请每项只选一次。",
    "phone.invalid": "「{raw}」不是有效的中国大陆手机号。手机号为 11 位数字，以 1 开头（可带 +86），例如 13812345678。",
    "email.invalid": "「{raw}」不是有效的电子邮箱地址，例如 name@example.com。请重新输入。",
    "yes_no.invalid": "请回答「是」或「否」。",
    "yes_no.must_be_yes": "{label}：必须确认后才能继续。",
    "file.too_few": "请至少上传 {min} 份文件，目前已上传 {got} 份。",
    "file.too_many": "最多上传 {max} 份文件，目前已上传 {got} 份。",
    "file.expected": "此题需要上传文件（PDF、JPG 或 PNG），请发送文件后点击「完成」。",
    "file.empty": "文件是空的，请重新上传。",
    "file.too_large": "文件过大：{size_mb:.1f} MB，单个文件不能超过 {max_mb} MB。请压缩后重新上传。",
    "file.bad_type": "不支持的文件类型。只接受 PDF、JPG、PNG 文件（按文件内容识别，而非文件名）。请重新上传。",
    "answers.unknown_key": "「{key}」不是本表的题目。",
    "answers.not_shown": "「{key}」根据前面的回答不需要填写。",
    # follow-ups
    "follow_up.prompt": "【{item}】{prompt}",
    # applications
    "application.not_editable": "当前申请状态为「{status}」，不能修改答案。",
    "application.incomplete": "还有 {count} 道必答题未完成：{labels}。",
    "application.no_consent": "开始填写前，需要先阅读并同意个人信息处理告知。",
    "application.no_sensitive_consent": "上传证书等材料前，需要单独同意处理敏感个人信息。",
    "application.registration_closed": "「{batch}」的报名已于 {deadline} 截止，暂不能提交。",
    "application.registration_not_open": "「{batch}」的报名将于 {opens} 开始，请届时再来。",
    "application.not_found": "没有找到这份申请。",
    "application.reason_required": "请填写原因，申请人会收到这段说明。",
    "person.not_found": "没有找到该用户。",
    "batch.not_found": "没有找到批次「{ref}」。",
    "batch.none_open": "目前没有开放报名的批次。",
    "batch.dates_out_of_order": "批次日期顺序不正确：{detail}。",
    "document.not_found": "没有找到该文件。",
}


def text(key: str, /, **params: object) -> str:
    return ZH_CN[key].format(**params)
