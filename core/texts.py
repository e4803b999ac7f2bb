"""The catalogue of user-facing texts produced by the core (zh-CN).

Keys are stable identifiers; a second locale is a second dict with the same keys.
"""
from __future__ import annotations

from collections.abc import Mapping

__all__ = ["ZH_CN", "text"]

ZH_CN: Mapping[str, str] = {
    # validation
    "required": "此题为必答题，请填写。",
    "text.invisible_only": "您发送的内容只有不可见的字符（如零宽字符或文字方向控制符），请输入可见的文字。",
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
    "year_month.past": "「{label}」{got} 已经过去（今天是 {today}）。请填写本月或以后的年月。",
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
    "application.already_in_state": "该申请已是「{status}」状态，无需再次操作。",
    "application.already_decided": "该申请已于 {at} 由 {who} {done}，无需再次操作。",
    "person.not_found": "没有找到该用户。",
    "batch.not_found": "没有找到批次「{ref}」。",
    "batch.none_open": "目前没有开放报名的批次。",
    "batch.dates_out_of_order": "批次日期顺序不正确：{detail}。",
    "document.not_found": "没有找到该文件。",
    # bot: entry and consent
    "bot.welcome": (
        "您好！这里是中国创造学会创新工程学分会「全国创新工程微专业建设校企合作计划」报名助手。\n\n"
        "为解决高校创新工程领域师资匮乏的难题，分会征集企业专家担任产业兼职教师，"
        "并与开设创新工程微专业（创新思维、产品创新方法、技术创新方法、创新管理）的高校双向匹配。"
    ),
    "bot.privacy_notice": (
        "【个人信息处理告知】\n"
        "处理者：中国创造学会创新工程学分会。\n"
        "目的：产业兼职教师资质审核、资源库建设、校企双向匹配、公示与备案、活动通知。\n"
        "收集内容：申请表中的姓名、出生日期、联系方式、工作单位、学历职称、授课意向等；"
        "资质证明材料（证书等）属敏感个人信息，上传前会再次单独征求您的同意。\n"
        "{retention}\n"
        "您的权利：随时发送 /mydata 查看并导出您的全部数据，/edit 更正，/delete 删除。\n\n"
        "同意后才会开始提问。是否同意？"
    ),
    "bot.consent_yes": "同意并继续",
    "bot.consent_no": "不同意",
    "bot.consent_declined": "已记录您的选择，我们不会收集您的任何信息。如改变主意，请发送 /start。",
    "bot.choose_role": "请选择您的身份：",
    "bot.role_expert": "我是企业专家（申请产业兼职教师）",
    "bot.role_university": "我是高校联系人（申报微专业建设意向）",
    "bot.welcome_back": "欢迎回来！我们从上次停下的地方继续。",
    "bot.sensitive_notice": (
        "接下来需要上传资质证明材料（学历/职称证书、项目成果材料等）。"
        "这些材料可能包含敏感个人信息，仅用于资质审核和备案，审核人员之外不会公开。"
        "是否同意上传并由分会处理这些材料？"
    ),
    "bot.sensitive_yes": "同意上传",
    "bot.sensitive_no": "暂不上传",
    "bot.sensitive_declined": "好的，您可以稍后再上传；已填写的内容都已保存。需要继续时发送 /start。",
    # bot: form runner
    "bot.progress": "第 {position}/{total} 题（总题数随您的回答可能减少）",
    "bot.editing": "（修改后将回到汇总页）",
    "bot.back": "⬅️ 上一步",
    "bot.skip": "跳过",
    "bot.done": "完成",
    "bot.yes": "是",
    "bot.no": "否",
    "bot.share_phone": "📱 分享我的手机号",
    "bot.recorded": "✓ 已记录",
    "bot.share_phone_hint": "也可以点击下方按钮直接分享您的 Telegram 手机号。",
    "bot.use_buttons": "请点击上方按钮作答（也可以直接输入选项文字或序号）。",
    "bot.send_file": "此题需要上传文件：请直接发送 PDF、JPG 或 PNG 文件，全部上传后点击「完成」。",
    "bot.files_so_far": "已上传 {count} 份文件。",
    "bot.file_received": "已收到第 {count} 份文件{name}。可继续上传，或点击「完成」。",
    "bot.file_too_large": "文件过大：{size_mb:.1f} MB，单个文件不能超过 {max_mb} MB。请压缩后重新上传。",
    "bot.multi_hint": "可多选，选好后点击「完成」。已选：{picked}",
    "bot.nothing_picked": "（无）",
    "bot.expired": "此按钮已过期，请回答当前的问题。",
    "bot.invalid_button": "此按钮无效，请使用当前问题下方的按钮。",
    "bot.keep": "保留当前答案",
    "bot.answered": "✓ 您的回答：{value}",
    "bot.answered_skipped": "✓ 已跳过",
    "bot.answered_files": "✓ 已上传 {count} 份文件",
    "bot.contact_not_own": "这是其他人的联系人名片，不能作为您的手机号。请输入您本人的手机号，或点击「📱 分享我的手机号」。",
    "bot.receipt_in_chat": "回执已由机器人在对话中直接发送，不再重复发送。",
    "bot.unknown_command": "没有「{command}」这个命令。发送 /help 查看可用的命令。",
    "bot.paused_hint": "填写已暂停，这条消息没有作为答案保存。发送 /start 从上次停下的题目继续。",
    "bot.wants.text": "此题需要输入文字：请直接输入您的回答。",
    "bot.wants.integer": "此题需要输入一个整数（例如 12）。",
    "bot.wants.date": "此题需要输入日期，例如 2025-08-15 或 2025年8月15日。",
    "bot.wants.year_month": "此题需要输入年月，例如 2025-09 或 2025年9月。",
    "bot.wants.single": "此题请点击上方按钮选择（也可以直接输入选项文字或序号）。",
    "bot.wants.multi": "此题请点击上方按钮选择，选好后点击「完成」（也可以直接输入选项文字或序号）。",
    "bot.wants.yes_no": "此题请点击上方的「是」或「否」（也可以直接输入“是”或“否”）。",
    "bot.wants.phone": "此题需要您本人的手机号：请直接输入，或点击「📱 分享我的手机号」。",
    "bot.wants.email": "此题需要输入电子邮箱地址，例如 name@example.com。",
    "bot.wants.file": "此题需要上传文件：请直接发送 PDF、JPG 或 PNG 文件，全部上传后点击「完成」。",
    "bot.wants.review": "您已答完全部题目：请点击汇总页上的题号修改答案，或点击「提交」。",
    # operators starting a process
    "ops.webhook_secret_missing": (
        "已设置 WEBHOOK_URL 但没有设置 WEBHOOK_SECRET：没有密钥，任何人都能向 webhook 伪造 Telegram 更新，"
        "因此拒绝启动。生成一个密钥：python -c \"import secrets; print(secrets.token_urlsafe(32))\"，"
        "写入 WEBHOOK_SECRET 后重新启动。"
    ),
    "ops.webhook_secret_invalid": (
        "WEBHOOK_SECRET 不可用：Telegram 要求 {min}–256 个字符，且只能包含 A-Z、a-z、0-9、_ 和 -。"
        "生成一个密钥：python -c \"import secrets; print(secrets.token_urlsafe(32))\"。"
    ),
    "ops.port_in_use": (
        "端口 {host}:{port} 已被占用（可能已有一个 innoeng 在运行）。请停止占用它的程序，"
        "或设置 {setting} 换一个端口，例如：{setting}=18081 innoeng run"
    ),
    "ops.polling_single_process": (
        "长轮询（未设置 WEBHOOK_URL）只能运行一个机器人进程：Telegram 只允许一个 getUpdates 连接。"
        "要运行 {workers} 个进程，请使用 webhook 模式（WEBHOOK_URL、WEBHOOK_SECRET）并设置 REDIS_URL。"
    ),
    "ops.workers_need_redis": (
        "多个机器人进程需要 REDIS_URL：对话状态和每个人消息的先后顺序必须由所有进程共享。"
    ),
    "bot.out_of_order": "这条消息晚于您之后发送的消息才到达，为免记到别的题目下，未予保存。请对照当前的问题重新发送。",
    "bot.review_title": "请核对您填写的《{title}》：",
    "bot.review_hint": "点击题号可修改对应答案；确认无误后点击「提交」。",
    "bot.submit": "✅ 提交",
    "bot.submitted": "已提交！受理编号：{reference}\n提交时间：{submitted_at}\n\n{outcome}",
    "bot.outcome.pass": "资格初审：符合通知规定的基本条件，工作人员审核后会通知您结果。",
    "bot.outcome.needs_judgement": "资格初审：部分条件需工作人员审核判断（通知允许适当放宽），审核后会通知您结果。",
    "bot.outcome.fail": "资格初审：有条件不符合通知要求，工作人员复核后会通知您结果。",
    "bot.outcome.university": "意向表已受理，分会将结合专家资源为您推荐人选，推荐结果会另行通知您。",
    "bot.no_application": "您还没有申请。发送 /start 开始填写。",
    "bot.not_editable": "当前申请状态为「{status}」，不能修改。",
    "bot.error": "抱歉，处理这条消息时出错了。您之前的回答都已保存；这一条没有保存，请稍后重新发送（或重新点击按钮）。",
    # bot: commands
    "bot.help": (
        "可用命令：\n"
        "/start 开始或继续填写\n/status 查看申请状态\n/edit 修改草稿或补充材料\n/withdraw 撤回申请\n"
        "/mydata 导出我的全部数据\n/delete 删除我的全部数据\n/cancel 暂停填写（随时 /start 继续）\n/help 帮助"
    ),
    "bot.paused": "已暂停。您已填写的内容都已保存，随时发送 /start 继续。",
    "bot.status_line": "《{title}》（{batch}）：{status}",
    "bot.status_progress": "已填写 {answered}/{total} 题。",
    "bot.status_message": "工作人员留言：{message}",
    "bot.withdraw_confirm": "确定要撤回《{title}》吗？撤回后不能恢复。",
    "bot.withdraw_yes": "确定撤回",
    "bot.withdrawn": "已撤回。",
    "bot.cancelled": "已取消。",
    "bot.cancel_button": "取消",
    "bot.delete_confirm": "确定要删除您在本平台的全部数据（包括申请和上传的文件）吗？删除后不能恢复。",
    "bot.delete_yes": "确定删除",
    "bot.deleted": "您的全部数据已删除（含 {files} 份文件）。感谢关注本计划。",
    "bot.deleted_kept": (
        "您的数据已删除（含 {files} 份文件），以下记录依法保留：聘任编号 {appointments} 已签订协议或已向教育主管部门备案，"
        "分会须保存该聘任记录，其中只留姓名、工作单位、单位类型和聘任课程；您的联系方式、出生日期、简介、证书和通知记录均已删除。"
    ),
    "bot.deleted_files_pending": (
        "您的数据记录已删除；{files} 份上传文件中有 {pending} 份暂时未能从存储中移除，系统会自动重试直至删除，"
        "在此之前不会被使用或提供给任何人。"
    ),
    "bot.mydata_caption": "这是我们保存的您的全部数据（JSON）。文件清单（含 SHA-256 校验值）在 files 一节。",
    "bot.mydata_files_offer": "您在本平台上传了 {count} 份文件。需要的话，点击下方按钮，我们把文件本身发给您。",
    "bot.mydata_files_button": "发送我的文件",
    "bot.mydata_no_files": "您没有上传过文件。",
    "bot.mydata_file_missing": "文件「{name}」在存储中找不到了，已记录，工作人员会核查。",
    # personal information: erasure and retention
    "privacy.notice_cancelled": "所涉人员已删除其个人信息，此通知不再发送",
    "privacy.retention_line": (
        "保存期限：已送达通知的内容 {outbox_days} 天后删除；聊天状态 {chat_days} 天、消息去重记录 {updates_days} 天后删除；"
        "未提交的草稿 {draft_days} 天无操作后删除；被驳回或撤回的申请及其文件在批次截止 {closed_days} 天后删除；"
        "审核与操作日志保存 {audit_days} 天；其余资料保存至本计划结束后 3 年，或您要求删除时。"
    ),
    # two-way matching (双向匹配)
    "match.accept_button": "✅ 接受",
    "match.confirm_button": "✅ 确认",
    "match.decline_button": "❌ 谢绝",
    "match.decline_reason": "请简要说明谢绝的原因（便于分会改进匹配）：",
    "match.accepted": "已记录您的答复：{answer}（{pair}）。双方都确认后将进入公示，届时会通知您。",
    "match.declined": "已记录您的答复：谢绝（{pair}）。分会将另行安排。",
    "match.both_accepted": "已记录您的答复：{answer}（{pair}）。双方均已确认，分会将按规定安排公示，公示开始时会通知您公示期。",
    # the pair a reply is for: the expert reads the university and course, the university the course and expert
    "match.pair.expert": "{university}《{course}》",
    "match.pair.university": "《{course}》，专家 {expert}",
    "match.answer.expert": "接受",
    "match.answer.university": "确认",
    "match.no_candidates": "目前还没有为您推荐的人选。提交意向表后，分会会根据资源库为您推荐。",
    "match.no_candidates_yet": "您的意向表已提交。资源库中暂时没有符合您课程需求的专家；有合适的专家入库后，我们会立即为您推荐并通知您。",
    "match.course_no_candidates": "《{course}》：资源库中暂时没有符合条件的专家；有合适的专家入库后会通知您。",
    "match.expert.none": "目前还没有向您推荐的高校。审核通过后，分会会把您推荐给课程需求相符的高校，届时可在这里表达意向。",
    "match.expert.header": "分会已把您推荐给以下高校（课程需求与您相符）。请标记「意向」并排序，或标记「不考虑」；分会匹配时会兼顾您和高校双方的意向：",
    "match.expert.card": "{university}（{place}）：《{courses}》，计划开课 {start}，学生约 {students} 人\n当前标记：{mark}",
    "match.candidates_header": "《{course}》需要 {need} 位专家，推荐人选如下（匹配确认前不公开姓名和联系方式）：",
    "match.candidate_card": "{rank}. {code}：{summary}\n推荐理由：{reasons}\n当前标记：{mark}",
    "match.mark_none": "未标记",
    "match.mark_want": "意向（第 {rank} 位）",
    "match.mark_not": "不考虑",
    "match.want_button": "👍 意向",
    "match.not_button": "🚫 不考虑",
    "match.up_button": "⬆️ 提前",
    "match.clear_button": "清除标记",
    "match.more_button": "🔎 更多人选",
    "match.more_none": "暂时没有更多符合条件的人选。",
    "match.saved": "已保存",
    "match.status_line": "匹配：{university}《{course}》— 专家 {expert}：{status}",
    "match.status_answer": "请于 {deadline} 前答复。",
    "match.status_publicity": "公示期：{start} 至 {end}",
    # staff: matching
    "match.staff.run_summary": (
        "第 {id} 次匹配（{status}）：填补 {filled}/{need} 个名额，总分 {score:.3f}，最优性差距 {gap:.2%}，用时 {time:.1f} 秒。"
    ),
    "match.staff.unfilled": "未填补：{university}《{course}》缺 {missing} 人——{why}",
    "match.staff.proposal": "{id}. {university}《{course}》← {expert}（{employer}），分 {score:.3f}{fixed}",
    "match.staff.confirm_button": "✅ 确认并通知双方",
    "match.staff.confirmed": "已确认第 {id} 次匹配，已通知 {count} 对专家和高校。",
    "match.staff.nothing_new": "本次匹配没有需要新确认的配对。",
    "match.staff.choose_batch": "对哪个批次运行匹配？",
    "match.staff.batch_button": "{name}（报名截止 {closes}）",
    "match.staff.run_prompt": (
        "将对「{batch}」运行匹配：资源库专家 {experts} 位，高校 {universities} 所、课程需求 {demands} 项共 {slots} 个名额。"
        "此前已确认的配对保持不变，已谢绝或“不考虑”的不再推荐。确认运行？"
    ),
    "match.staff.run_button": "▶️ 运行匹配",
    "match.staff.run_cancel_button": "取消",
    "match.staff.run_cancelled": "已取消，未运行匹配。",
    "match.job_not_running": "匹配任务 {job} 不在计算中（已结束、已中断或不属于这个批次），未运行匹配。",
    "match.staff.running": "正在对「{batch}」运行匹配，请稍候……",
    "match.staff.pairs_button": "🔎 逐对确认或暂缓",
    "match.staff.pair_card": "第 {run} 次匹配 · 第 {number} 对：{university}《{course}》← {expert}（{employer}），分 {score:.3f}\n{explanation}{state}",
    "match.staff.pair_state_held": "\n状态：暂缓（“全部确认”不包含此对）",
    "match.staff.pair_state_confirmed": "\n状态：已确认，聘任编号 {appointment}",
    "match.staff.pair_confirm_button": "✅ 确认此对",
    "match.staff.pair_hold_button": "⏸ 暂缓",
    "match.staff.pair_release_button": "▶️ 取消暂缓",
    "match.staff.pair_confirmed": "已确认第 {run} 次匹配的第 {number} 对并通知双方（聘任编号 {appointment}）。",
    "match.staff.pair_held": "第 {run} 次匹配的第 {number} 对已暂缓：“全部确认”不会包含它，需要时可单独确认。",
    "match.staff.pair_released": "第 {run} 次匹配的第 {number} 对已取消暂缓。",
    "match.staff.pairs_none": "本次匹配没有待确认的配对。",
    "match.staff.held_left_out": "暂缓的 {held} 对未包含在内。",
    "match.staff.kept_mark": "（此前已确认）",
    "match.staff.held_mark": "（暂缓）",
    "match.staff.unknown_action": "此按钮无效，请重新发送 /match。",
    "match.staff.usage": "用法：{usage}",
    "match.staff.done": "已登记：聘任 {id} → {status}",
    "match.staff.cap_lifted": "已放宽专家申请 {id} 的受聘高校数上限为 {cap} 所，理由已记录。",
    "match.staff.publicity_empty": "目前没有公示中或双方已确认、待公示的聘任。",
    "match.staff.publicity_awaiting_header": (
        "双方已确认、待公示 {count} 对。若次一工作日开始，公示期为 {start} 至 {end}（{days} 个工作日）。"
        "开始公示：/publicity start 聘任编号… [开始日期]"
    ),
    "match.staff.publicity_awaiting_line": "［聘任编号 {id}］{university}《{course}》← {expert}（{employer}）",
    "match.staff.publicity_started": (
        "已开始公示 {count} 对（聘任编号 {ids}）：{start} 至 {end}，共 {days} 个工作日。公示开始和结束的通知已排入发送队列。"
    ),
    "appointments.publicity_none_chosen": "请至少选择一对要开始公示的聘任。",
    "appointments.publicity_not_found": "没有找到聘任 {ids}。本次没有开始任何公示。",
    "appointments.publicity_not_accepted": (
        "聘任 {id}（{university}《{course}》— {expert}）当前为「{status}」，只有双方已确认、待公示的聘任可以开始公示。"
        "本次没有开始任何公示。"
    ),
    "appointments.publicity_past": "公示开始日期 {day} 已经过去（今天是 {today}），请选择今天或以后的日期。",
    "match.staff.filing_empty": "目前没有已签订协议或已备案的聘任。",
    "calendar.uncovered_year": (
        "注意：节假日日历尚未收录 {year} 年的法定节假日和调休安排，{year} 年的公示期暂按周一至周五"
        "（除 HOLIDAYS 中列出的日期）计算。请核对公示期，必要时在 HOLIDAYS 中补充假日并升级 chinese-calendar。"
    ),
    # bot: staff
    "bot.not_allowed": "您没有权限使用该命令。",
    "bot.pending_empty": "目前没有待审核的申请。",
    "bot.pending_header": "待审核 {count} 份（最早提交的在前）：",
    "bot.pending_page": "待审核共 {total} 份（最早提交的在前），以下是第 {first}–{last} 份：",
    "bot.pending_more": "还有 {left} 份待审核。",
    "bot.next_page": "下一页",
    "bot.help_staff": "工作人员命令：",
    "bot.approve": "✅ 通过",
    "bot.reject": "❌ 不通过",
    "bot.ask_info": "📝 补充材料",
    "bot.show_files": "📎 查看材料",
    "bot.reason_prompt.reject": "请输入不通过的原因（申请人会收到）：",
    "bot.reason_prompt.needs_info": "请输入需要补充的内容（申请人会收到）：",
    "bot.review_done": "已处理：{name}（{reference}）→ {status}",
    "bot.stats": "统计",
    # events (workshops, matching events, seminars)
    "events.unknown_kind": "未知的活动类型「{kind}」。可选：{kinds}。",
    "events.unknown_audience": "未知的邀请对象「{audience}」。可选：{audiences}。",
    "events.title_required": "请填写活动名称。",
    "events.ends_before_start": "活动结束时间必须晚于开始时间。",
    "events.in_past": "活动开始时间必须晚于现在。",
    "events.not_found": "没有找到活动「{ref}」。",
    "events.cancelled": "活动「{title}」已取消。",
    "events.started": "活动「{title}」已开始，不能再邀请。",
    "events.over": "活动「{title}」已结束，无法再回复。",
    "events.no_people": "请指定要邀请的人员编号。",
    "events.people_not_found": "没有找到这些人员：{ids}。",
    "events.invitation_not_found": "这条邀请已失效或不属于您。",
    "events.rsvp_button_yes": "参加",
    "events.rsvp_button_no": "不参加",
    "events.rsvp_recorded": "已记录：{answer}",
    "events.rsvp_choice_line": "您的回复：{answer}",
    "events.rsvp_stale": "此按钮已失效。",
    "events.staff_only": "您没有权限使用该命令（仅限分会工作人员）。",
    "events.newevent_help": (
        "用法：/newevent 类型 | 名称 | 开始时间 | 结束时间 | 地点或链接 | 邀请对象\n"
        "类型：岗前示范交流活动、校企对接活动、教学研讨会\n"
        "时间：2025-09-01 14:00（北京时间）；结束时间可只写 16:00\n"
        "地点或链接：以 http 开头视为线上链接，否则为线下地点\n"
        "邀请对象：experts（资源库专家）、universities（意向已通过的高校）、people:1,2,3（指定人员编号），可省略\n"
        "例：/newevent 岗前示范交流活动 | 创新思维示范课 | 2025-09-01 14:00 | 16:00 | https://meeting.example.cn/1 | experts"
    ),
    "events.newevent_bad_time": "无法识别的时间「{raw}」，请按 2025-09-01 14:00 的格式输入。",
    "events.newevent_bad_syntax": "格式不正确：至少需要 类型 | 名称 | 开始时间 | 结束时间。",
    "events.created": "已创建活动 #{id}「{title}」，{starts}。",
    "events.invited": "已邀请 {count} 人（此前已邀请 {already} 人）。",
    "events.none": "目前没有待举行的活动。",
    "events.list_line": "#{id} {kind}「{title}」{starts}｜参加 {yes}，不参加 {no}，未回复 {pending}",
    # staff console accounts and access (issue 14)
    "role.reviewer": "审核员",
    "role.coordinator": "协调员",
    "role.admin": "管理员",
    "staff.email_invalid": "「{raw}」不是有效的电子邮箱地址，例如 name@example.org。",
    "staff.email_taken": "邮箱 {email} 已有工作人员账号（#{id} {name}）。如本人忘记密码或未完成设置，请管理员在「工作人员账号」页该账号一行点「重设密码」，或运行 innoeng staff reset {email}，把新的设置链接交给本人。",
    "staff.email_taken_disabled": "邮箱 {email} 已有工作人员账号（#{id} {name}），该账号已停用。如需恢复，请管理员在「工作人员账号」页该账号一行点「启用」，或运行 innoeng staff enable {email}；如还需新密码，再点「重设密码」（innoeng staff reset {email}）。",
    "staff.name_required": "请填写姓名。",
    "staff.role_unknown": "「{raw}」不是可选角色。可选：reviewer（审核员）、coordinator（协调员）、admin（管理员）。",
    "staff.not_found": "找不到工作人员账号「{ref}」。",
    "staff.chat_actor": "工作人员（Telegram {telegram_id}）",
    "staff.telegram_taken": "Telegram 账号 {telegram_id} 已关联到工作人员「{name}」。",
    "staff.setup_link_invalid": "此设置链接无效、已使用或已过期。请联系管理员重新生成设置链接。",
    "staff.password_too_short": "密码太短：至少需要 {min} 个字符，您输入了 {got} 个。",
    "staff.password_too_long": "密码太长：最多 {max} 个字符。",
    "staff.password_mismatch": "两次输入的密码不一致，请重新输入。",
    "staff.password_contains_email": "密码不能包含您的邮箱地址。",
    "staff.totp_required_for_admin": "管理员账号必须启用两步验证：请用身份验证器应用添加密钥后，输入其显示的 6 位验证码。",
    "staff.totp_invalid": "两步验证码不正确或已过期，请输入身份验证器应用中当前显示的 6 位数字。",
    "staff.totp_reused": "这个两步验证码刚才已经用过，每个验证码只能用一次。请等身份验证器应用显示下一个验证码（每 30 秒更新）后再输入。",
    "staff.totp_needed": "此账号已启用两步验证：请输入身份验证器应用中的 6 位验证码。",
    "staff.login_failed": "邮箱或密码不正确。",
    "staff.login_locked": "登录失败次数过多，该账号已暂时锁定，请在 {minutes} 分钟后再试，或联系管理员。",
    "staff.login_throttled": "来自此网络地址的登录失败次数过多，请在 {minutes} 分钟后再试。",
    "staff.cannot_disable_self": "不能停用您自己正在使用的账号。",
    "staff.admin_needs_totp_setup": "管理员账号必须启用两步验证，但此账号尚未设置。请其他管理员在「工作人员账号」页为您「重设密码」，用新的设置链接完成设置。",
    "console.forbidden": "您的角色（{role}）无权打开此页面：需要「{needed}」或更高权限。如需权限，请联系管理员。",
    "console.not_found": "找不到该页面或对象：它可能不存在、已被删除，或您无权查看。",
    "console.csrf_refused": "安全校验未通过（表单已过期或来源不明），本次提交未被处理。请返回、刷新页面后重新提交。",
    "console.server_error": "服务器内部错误，本次操作未完成。请稍后重试；如仍有问题，请把错误编号 {ref} 告诉管理员。",
    "console.session_ended": "登录已过期或已退出，请重新登录。",
    "console.bad_request": "请求无效：{detail}",
    "console.flash.setup_done": "账号设置完成，请用新密码登录。",
    # F1 console pages
    "outbox.status.queued": "排队中",
    "outbox.status.sending": "发送中",
    "outbox.status.sent": "已发送",
    "outbox.status.failed": "发送失败",
    "outbox.status.unknown": "结果未知",
    "outbox.status.skipped": "已跳过",
    "outbox.channel.email": "电子邮件",
    "outbox.channel.telegram": "Telegram",
    "outbox.kind.agreement_recorded": "聘任协议已记录",
    "outbox.kind.channel_paused": "通道暂停提醒",
    "outbox.kind.deadline_reminder": "截止提醒",
    "outbox.kind.filing_recorded": "备案已记录",
    "outbox.kind.match_accepted": "双方已确认，待公示",
    "outbox.kind.match_answer_reminder": "匹配答复提醒",
    "outbox.kind.match_declined": "匹配被谢绝",
    "outbox.kind.match_proposal": "匹配结果",
    "outbox.kind.publicity_cancelled": "公示取消",
    "outbox.kind.publicity_ended": "公示结束",
    "outbox.kind.publicity_started": "公示开始",
    "outbox.kind.recommendations": "候选专家推荐",
    "outbox.kind.review_approved": "审核通过",
    "outbox.kind.review_needs_info": "请补充材料",
    "outbox.kind.review_rejected": "审核未通过",
    "outbox.kind.staff_digest": "工作人员日报",
    "outbox.kind.submission_receipt": "提交回执",
    "outbox.kind.workshop_cancelled": "活动取消",
    "outbox.kind.workshop_invitation": "活动邀请",
    "outbox.kind.workshop_reminder": "活动提醒",
    "outbox.kind.workshop_updated": "活动变更",
    "form.expert": "专家申请",
    "form.university": "高校意向",
    "form_short.expert": "专家",
    "form_short.university": "高校",
    "console.retry_none_selected": "请至少勾选一条要重试的通知。",
    "console.flash.retried": "已把 {count} 条通知重新排入发送队列。",
    "console.flash.batch_created": "批次已创建。",
    "console.flash.batch_updated": "批次日期已修改。",
    "console.flash.staff_added": "账号已创建，请把设置链接交给本人。",
    "console.flash.staff_updated": "账号已更新。",
    "console.batch_name_required": "请填写批次名称。",
    "audit.actor.cli": "命令行",
    "audit.actor.system": "系统",
    "audit.actor.person": "申请人 #{ref}",
    "audit.actor.chat_staff": "Telegram 工作人员 {ref}",
    "audit.actor.login": "登录尝试（{ref}）",
    "console.telegram_id_invalid": "「{raw}」不是 Telegram 用户编号（一串数字）；留空表示取消关联。",
    "audit.action.access.csrf_refused": "安全校验未通过被拒",
    "audit.action.access.denied": "越权访问被拒",
    "audit.action.application.resubmit": "重新提交申请",
    "audit.action.application.start": "开始填写申请",
    "audit.action.application.withdraw": "撤回申请",
    "audit.action.appointment.agreement": "记录聘任协议",
    "audit.action.appointment.filing": "记录备案",
    "audit.action.appointment.objection": "记录公示异议",
    "audit.action.appointment.publicity_start": "开始公示",
    "audit.action.batch.create": "创建批次",
    "audit.action.batch.update": "修改批次",
    "audit.action.document.upload": "上传证明材料",
    "audit.action.event.cancel": "取消活动",
    "audit.action.event.create": "创建活动",
    "audit.action.event.invite": "邀请参加活动",
    "audit.action.event.rsvp": "回复活动邀请",
    "audit.action.event.update": "修改活动",
    "audit.action.match.confirm": "确认匹配",
    "audit.action.match.lift_cap": "放宽受聘高校数上限",
    "audit.action.match.release": "释放匹配",
    "audit.action.match.run": "运行匹配",
    "audit.action.outbox.channel_paused": "通知通道暂停",
    "audit.action.outbox.channel_resumed": "通知通道恢复",
    "audit.action.outbox.retry": "重试通知",
    "audit.action.person.erase": "删除个人信息",
    "audit.action.person.export": "导出个人信息",
    "audit.action.person.register": "首次联系",
    "audit.action.recommendations.choose": "选择候选专家",
    "audit.action.review.approved": "审核通过",
    "audit.action.review.rejected": "审核不通过",
    "audit.action.review.needs_info": "要求补充材料",
    "audit.action.staff.add": "新建工作人员账号",
    "audit.action.staff.disable": "停用账号",
    "audit.action.staff.enable": "启用账号",
    "audit.action.staff.link_telegram": "关联 Telegram",
    "audit.action.staff.locked": "账号被锁定",
    "audit.action.staff.login": "登录工作台",
    "audit.action.staff.login_refused": "登录被拒",
    "audit.action.staff.logout": "退出工作台",
    "audit.action.staff.reissue_setup": "重设密码（新设置链接）",
    "audit.action.staff.role": "修改角色",
    "audit.action.staff.setup": "完成账号设置",
    "console.setting_secret_set": "（已设置，不显示）",
    "console.setting_unset": "（未设置）",
    "console.too_large": "提交的内容太大（上限 2 MB），未被处理。请精简后重试。",
    "console.method_not_allowed": "不支持以这种方式打开此地址。请从页面上的链接或按钮进入。",
    "console.forbidden_generic": "您无权执行此操作。如需权限，请联系管理员。",
    # end F1 console pages
    # console working pages (review, pool, matching, appointments, workshops)
    "console.filter_unknown": "筛选条件「{field}」的值「{value}」无法识别，已忽略该条件。",
    "console.filter_bad_date": "筛选条件「{field}」应为日期（例如 2025-08-15），您输入的是「{value}」，已忽略该条件。",
    "console.flash.approved": "已审核通过，该专家已入库，通知已排入发送队列。",
    "console.flash.rejected": "已记录不通过及原因，通知已排入发送队列。",
    "console.flash.needs_info": "已请申请人补充材料，通知已排入发送队列。",
    "console.flash.run_done": "匹配计算完成。",
    "console.flash.confirmed": "已确认匹配，双方的答复通知已排入发送队列。",
    "console.flash.cap_lifted": "已为该专家放宽受聘高校数上限，原因已记录。",
    "console.flash.publicity_started": "公示已开始，双方的通知已排入发送队列。",
    "console.flash.objection_recorded": "异议及处理结果已记录。",
    "console.flash.agreement_recorded": "聘任协议已记录。",
    "console.flash.filing_recorded": "备案已记录。",
    "console.flash.workshop_created": "活动已创建。",
    "console.flash.workshop_updated": "活动已更新，已受邀者会收到变更通知。",
    "console.flash.workshop_cancelled": "活动已取消，已受邀者会收到取消通知。",
    "console.flash.workshop_invited": "邀请已排入发送队列。",
    "console.run_failed": "匹配计算失败：{reason}",
    "console.run_running": "匹配正在计算中（已用 {seconds} 秒），本页每 2 秒自动刷新。",
    "console.run_interrupted_reason": "计算这次匹配的进程在途中停止了（控制台或机器人重启、命令行被中断或意外退出），这次匹配没有算完，也没有保存结果。",
    "console.run_interrupted": "批次「{batch}」的匹配计算已中断：{reason}本次计算于 {started} 开始，最后一次进度记录于 {heartbeat}。请重新开始匹配。",
    "console.run_interrupted_notice": "批次「{batch}」上次的匹配计算（{started} 开始）已中断，没有保存结果，请重新开始。",
    "console.run_already_running": "批次「{batch}」的匹配正在计算中（{started} 开始），同一批次一次只能计算一次匹配。请等它完成后再开始新的匹配。",
    "console.pick_pairs": "请至少勾选一对要确认的匹配。",
    "console.bad_date": "「{field}」应为日期（例如 2025-08-15），您输入的是「{value}」。",
    "console.bad_datetime": "「{field}」应为日期和时间（例如 2025-09-01 14:00），您输入的是「{value}」。",
    "console.bad_number": "「{field}」应为整数，您输入的是「{value}」。",
    "console.field_required": "请填写「{field}」。",
    # notifier
    "notifier.no_address": "没有可用的收件地址（{channel}）：请联系本人补充联系方式",
    "notifier.unknown_kind": "未知的通知类型「{kind}」",
    "notifier.interrupted_attempt": "发送进程在发送途中中断，无法确定对方是否已收到：请核实后再决定是否重发（innoeng notify retry 编号）",
    "notifier.channel_paused": "发送渠道已暂停（{reason}），通知保留在队列中，渠道恢复后自动发送",
    "notifier.gave_up": "{reason}（自首次尝试起 {hours} 小时内共尝试 {attempts} 次均未成功，不再重试）",
    "notifier.telegram_unauthorized": "Telegram 不接受机器人凭据（401 Unauthorized）：BOT_TOKEN 错误或已被撤销。{detail}",
    "notifier.telegram_token_not_found": "Telegram 找不到这个机器人（404 Not Found）：BOT_TOKEN 或 BOT_API_URL 有误。{detail}",
    "notifier.telegram_unreachable": "无法连接 Telegram 服务器（{detail}）",
    "notifier.telegram_forbidden": "Telegram 拒绝发送（403 Forbidden）：对方已屏蔽机器人或账号已停用。{detail}",
    "notifier.telegram_bad_request": "Telegram 拒绝了这条消息（400 Bad Request）：{detail}",
}


def text(key: str, /, **params: object) -> str:
    return ZH_CN[key].format(**params)
