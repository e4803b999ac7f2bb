"""The fixed vocabularies of the two questionnaires: stored values and their zh-CN labels.

Values are stable identifiers kept in the database; labels are what people see.
"""
from __future__ import annotations

EMPLOYER_TYPES: dict[str, str] = {
    "national_key": "国家级重点企事业单位",
    "provincial_key": "省级重点企事业单位",
    "high_tech": "高新技术企业",
    "little_giant": "专精特新“小巨人”企业",
    "industry_association": "行业协会",
    "other": "其他",
}

EDUCATION_LEVELS: dict[str, str] = {
    "doctorate": "博士研究生",
    "master": "硕士研究生",
    "bachelor": "大学本科",
    "associate": "大学专科",
    "secondary_or_below": "高中/中专及以下",
}

TITLES: dict[str, str] = {
    "senior_full": "正高级职称",
    "senior_associate": "副高级职称",
    "senior_technician": "高级技师",
    "intermediate_or_below": "中级及以下",
    "none": "无",
}

PRIORITY_CONDITIONS: dict[str, str] = {
    "major_invention_patent": "拥有重大发明专利",
    "core_technology": "掌握核心技术",
    "technology_transfer": "科技成果转化成绩突出",
    "industry_education": "在产教融合协同育人领域有突出贡献",
    "large_enterprise_tech_lead": "大型企业技术负责人",
    "skill_master_studio_head": "国家级技能大师工作室带头人",
}

DUTIES: dict[str, str] = {
    "teaching": "承担微专业课程理论/实践授课",
    "guiding_practice": "结合企业真实课题指导学生实习实践、参加创新创业竞赛",
    "co_developing": "与高校教师联合建设开发课程资源",
}

TEACHING_MODES: dict[str, str] = {
    "online": "线上",
    "offline": "线下",
    "both": "线上线下均可",
}

AVAILABLE_TIMES: dict[str, str] = {
    "weekend_intensive": "周末集中授课",
    "weekday_evening": "工作日晚间",
    "vacation_intensive": "寒暑假集中授课",
    "fixed_weekly": "每周固定时间",
}

UNIVERSITY_LEVELS: dict[str, str] = {
    "undergraduate": "本科",
    "vocational": "高职",
}

PREFERRED_CHANNELS: dict[str, str] = {
    "email": "电子邮件",
    "telegram": "Telegram 消息",
    "both": "两者都要",
}

PROVINCES: tuple[str, ...] = (
    "北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江",
    "上海", "江苏", "浙江", "安徽", "福建", "江西", "山东", "河南",
    "湖北", "湖南", "广东", "广西", "海南", "重庆", "四川", "贵州",
    "云南", "西藏", "陕西", "甘肃", "青海", "宁夏", "新疆",
    "香港", "澳门", "台湾",
)
