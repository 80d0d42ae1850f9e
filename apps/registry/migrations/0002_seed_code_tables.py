"""Seed the code tables from the domain reference (docs/domain.md). Administrators edit them afterwards; this runs once."""

from django.db import migrations

ETHNIC = (
    "汉族 蒙古族 回族 藏族 维吾尔族 苗族 彝族 壮族 布依族 朝鲜族 满族 侗族 瑶族 白族 土家族 哈尼族 哈萨克族 傣族 黎族 傈僳族 "
    "佤族 畲族 高山族 拉祜族 水族 东乡族 纳西族 景颇族 柯尔克孜族 土族 达斡尔族 仫佬族 羌族 布朗族 撒拉族 毛南族 仡佬族 "
    "锡伯族 阿昌族 普米族 塔吉克族 怒族 乌孜别克族 俄罗斯族 鄂温克族 德昂族 保安族 裕固族 京族 塔塔尔族 独龙族 鄂伦春族 "
    "赫哲族 门巴族 珞巴族 基诺族"
).split()

SIMPLE = {
    "political": "中共党员 中共预备党员 共青团员 民主党派 群众",
    "education": "研究生 大学本科 大学专科 中专/高中 初中 小学及以下",
    "marital": "未婚 已婚 离异 丧偶",
    "health": "健康 良好 一般 较差 患重病 残疾",
    "category": "军队转业干部 退役士兵 军队离休退休干部和退休士官 军队无军籍离退休退职职工 复员军人 退伍红军老战士 残疾军人 "
                "伤残民兵民工 烈士遗属 因公牺牲军人遗属 病故军人遗属 现役军人家属",
    "branch": "陆军 海军 空军 火箭军 战略支援部队/信息支援部队 武警部队 其他",
    "discharge_mode": "自主就业 安排工作 退休 供养 复员 逐月领取退役金 转业(计划分配) 转业(自主择业)",
    "certificate": "退役证 转业证 离退休证 复员证",
    "unit_nature": "机关 群团组织 事业单位 国有企业 其他",
    "benefit": "定期抚恤金 定期生活补助 护理费 不享受",
    "employment": "单位就业 灵活就业 新业态就业 自主创业 公益性岗位 未就业 离退休",
    "relation": "父亲 母亲 抚养人 配偶 儿子 女儿 兄弟 姐妹 其他",
    "tag": "困难退役军人 重点关注 兵支书 退役军人企业家 志愿者",
}

MILITARY = {
    "军官": "上将 中将 少将 大校 上校 中校 少校 上尉 中尉 少尉",
    "文职人员": "文职一级 文职二级 文职三级 文职四级 文职五级 文职六级 文职七级 文职八级 文职九级",
    "士官/军士": "一级军士长 二级军士长 三级军士长 一级上士 二级上士 中士 下士 一级士官 二级士官 三级士官 四级士官 五级士官",
    "义务兵": "上等兵 列兵",
}

CARE = [
    ("残疾军人", True), ("伤残人民警察", True), ("伤残国家机关工作人员", True), ("伤残民兵民工", True),
    ("烈士遗属", True), ("因公牺牲军人遗属", True), ("病故军人遗属", True), ("在乡退伍红军老战士", True),
    ("红军失散人员", True), ("在乡复员军人", True), ("带病回乡退伍军人", True), ("参战退役人员", True),
    ("参试(涉核)退役人员", True), ("60周岁以上农村籍退役士兵", True), ("部分烈士子女", False),
    ("铀矿开采军队退役人员", False),
]


def seed(apps, schema_editor):
    Code = apps.get_model("registry", "Code")

    def add(kind, names, **extra):
        created = []
        for order, name in enumerate(names, start=1):
            code, _new = Code.objects.get_or_create(kind=kind, name=name, defaults={"code": f"{order:02d}", "sort_order": order, **extra})
            created.append(code)
        return created

    add("ethnic", ETHNIC)
    for kind, names in SIMPLE.items():
        add(kind, names.split())
    categories = add("military_category", list(MILITARY))
    serial = 0
    for category in categories:
        for name in MILITARY[category.name].split():
            serial += 1
            Code.objects.get_or_create(kind="rank", name=name, defaults={"code": f"{serial:02d}", "sort_order": serial,
                                                                         "parent": category})
    for order, (name, key) in enumerate(CARE, start=1):
        Code.objects.get_or_create(kind="care_category", name=name,
                                   defaults={"code": f"{order:02d}", "sort_order": order, "is_key_recipient": key})


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
