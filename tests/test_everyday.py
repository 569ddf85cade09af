"""Everyday and technical words come out whole in the default standard (issue 24).

PROBE is the whole probe that benchmarks/experiments/everyday.py scores (seg's
standards, jieba): each case a neutral sentence and the word in it that a
careful reader takes as one word. It is data, not a list of promises: the
model splits some of these words, and everyday.md says which.

What is asserted: CONVENTIONS, what the default standard keeps of PKU's
way of cutting. WHOLE lists words that seg's own list of modern words
(dicts/lexicon_extra.txt, in the shipped model's open lexicon through
segcli/training/data.py extended_lexicon; everyday.py --extend-lexicon)
makes whole in the default standard where jieba's lexicon alone split
them, each also after "他说" and before a full stop.
"""

import pytest


PROBE = [
    ("issue", "生成n个正态随机数", "正态"),
    ("issue", "常用的聚类算法", "聚类"),
    ("issue", "这个函数返回一个数组", "数组"),
    ("issue", "区块链技术的应用", "区块链"),
    ("issue", "手机有点卡", "有点"),
    ("issue", "喜欢的话可以打赏一下", "打赏"),
    ("issue", "用多项式拟合这些数据", "拟合"),
    ("issue", "这份评测写得很详细", "评测"),
    ("issue", "训练时不断更新权值", "权值"),
    ("issue", "英伟达发布了新一代显卡", "英伟达"),
    ("issue", "周末我们去海底捞吃饭", "海底捞"),
    ("issue", "关于博主", "关于"),
    ("it", "数组的下标从零开始", "数组"),
    ("it", "先对样本做聚类分析", "聚类"),
    ("it", "这个变量没有初始化", "变量"),
    ("it", "编译器报了一个错误", "编译器"),
    ("it", "数据库连接超时了", "数据库"),
    ("it", "服务器昨晚宕机了", "宕机"),
    ("it", "浏览器打不开这个网页", "浏览器"),
    ("it", "这个接口返回的是字符串", "字符串"),
    ("it", "每个线程都有自己的栈", "线程"),
    ("it", "用哈希表存储键值对", "哈希表"),
    ("it", "递归函数要有终止条件", "递归"),
    ("it", "指针指向一块内存", "指针"),
    ("it", "清除浏览器缓存后再试", "缓存"),
    ("it", "他在研究机器学习", "机器学习"),
    ("it", "卷积层提取图像特征", "卷积"),
    ("it", "梯度下降是一种优化方法", "梯度"),
    ("it", "把输入表示成向量", "向量"),
    ("it", "模型出现了过拟合", "过拟合"),
    ("it", "加入正则化可以缓解这个问题", "正则化"),
    ("it", "张量的形状不匹配", "张量"),
    ("it", "他写了一个网络爬虫", "爬虫"),
    ("it", "这个框架很容易上手", "框架"),
    ("it", "安装插件之后重启编辑器", "插件"),
    ("it", "这个项目是开源的", "开源"),
    ("it", "家里的路由器坏了", "路由器"),
    ("it", "电脑的内存不够用", "内存"),
    ("it", "换了一块固态硬盘", "硬盘"),
    ("it", "扫描二维码即可下载", "二维码"),
    ("it", "请输入短信验证码", "验证码"),
    ("it", "这款游戏的画质很好", "画质"),
    ("it", "程序员每天都在写代码", "程序员"),
    ("it", "用正则表达式匹配邮箱", "正则表达式"),
    ("it", "这段代码的时间复杂度很高", "复杂度"),
    ("it", "链表的插入操作很快", "链表"),
    ("it", "二叉树的遍历有三种方式", "二叉树"),
    ("it", "对数据进行归一化处理", "归一化"),
    ("it", "损失函数在下降", "损失函数"),
    ("it", "训练集和测试集要分开", "训练集"),
    ("it", "这台服务器的带宽不够", "带宽"),
    ("it", "云计算降低了运维成本", "云计算"),
    ("it", "黑客利用了一个漏洞", "漏洞"),
    ("it", "请先备份重要文件", "备份"),
    ("it", "他的笔记本电脑很轻", "笔记本"),
    ("it", "这个小程序很好用", "小程序"),
    ("it", "升级到最新的操作系统", "操作系统"),
    ("it", "前端页面加载太慢", "前端"),
    ("it", "后端接口还没写完", "后端"),
    ("it", "用显卡训练模型快得多", "显卡"),
    ("it", "这个算法的准确率很高", "准确率"),
    ("it", "随机森林是一种集成方法", "随机森林"),
    ("it", "贝叶斯公式很有用", "贝叶斯"),
    ("it", "最小二乘法是一种常用方法", "最小二乘法"),
    ("it", "这个参数的默认值是零", "默认值"),
    ("it", "数据需要先做预处理", "预处理"),
    ("it", "欢迎关注我的公众号", "公众号"),
    ("it", "她在朋友圈发了照片", "朋友圈"),
    ("it", "这条视频的弹幕很多", "弹幕"),
    ("it", "他每天晚上都直播", "直播"),
    ("it", "这个网红的粉丝很多", "网红"),
    ("it", "记得给我点赞", "点赞"),
    ("it", "文章被转发了很多次", "转发"),
    ("finance", "他把钱都买了股票", "股票"),
    ("finance", "这只基金今年亏了", "基金"),
    ("finance", "国债的收益率下降了", "收益率"),
    ("finance", "人民币汇率保持稳定", "汇率"),
    ("finance", "央行下调了存款利率", "利率"),
    ("finance", "通货膨胀压力有所缓解", "通货膨胀"),
    ("finance", "这家公司的市盈率很高", "市盈率"),
    ("finance", "年轻人也开始理财了", "理财"),
    ("finance", "信用卡要按时还款", "信用卡"),
    ("finance", "买房需要付首付", "首付"),
    ("finance", "每个月要还房贷", "房贷"),
    ("finance", "公司今年给股东分红", "分红"),
    ("finance", "这只股票今天涨停了", "涨停"),
    ("finance", "大家都说牛市来了", "牛市"),
    ("finance", "公司完成了新一轮融资", "融资"),
    ("finance", "投资人认为估值过高", "估值"),
    ("finance", "比特币的价格波动很大", "比特币"),
    ("finance", "我用支付宝付款", "支付宝"),
    ("finance", "他把零钱放进了余额宝", "余额宝"),
    ("finance", "这个月花呗要还很多", "花呗"),
    ("finance", "请把钱转账给我", "转账"),
    ("finance", "商家同意退款了", "退款"),
    ("finance", "期货交易风险很大", "期货"),
    ("finance", "这家银行的贷款审批很快", "贷款"),
    ("finance", "市场的流动性很充足", "流动性"),
    ("finance", "公司的现金流出现了问题", "现金流"),
    ("finance", "他是一名基金经理", "基金经理"),
    ("medicine", "他患有糖尿病", "糖尿病"),
    ("medicine", "高血压患者要少吃盐", "高血压"),
    ("medicine", "医生给他开了抗生素", "抗生素"),
    ("medicine", "孩子按时接种疫苗", "疫苗"),
    ("medicine", "今天去做了核酸检测", "核酸"),
    ("medicine", "她对花粉过敏", "过敏"),
    ("medicine", "病人需要注射胰岛素", "胰岛素"),
    ("medicine", "饭后血糖有点高", "血糖"),
    ("medicine", "胆固醇偏高要注意饮食", "胆固醇"),
    ("medicine", "医生让他做心电图", "心电图"),
    ("medicine", "化疗的副作用很大", "副作用"),
    ("medicine", "肿瘤已经切除了", "肿瘤"),
    ("medicine", "头疼可以吃布洛芬", "布洛芬"),
    ("medicine", "他得了抑郁症", "抑郁症"),
    ("medicine", "最近总是失眠", "失眠"),
    ("medicine", "出门记得戴口罩", "口罩"),
    ("medicine", "公司每年组织体检", "体检"),
    ("medicine", "在网上就能挂号", "挂号"),
    ("medicine", "这种药需要处方", "处方"),
    ("medicine", "多运动可以提高免疫力", "免疫力"),
    ("medicine", "每天补充维生素", "维生素"),
    ("medicine", "他做了阑尾炎手术", "阑尾炎"),
    ("medicine", "孩子发烧到三十九度", "发烧"),
    ("medicine", "老人患了阿尔茨海默病", "阿尔茨海默病"),
    ("medicine", "医生建议做核磁共振", "核磁共振"),
    ("medicine", "病毒通过飞沫传播", "飞沫"),
    ("medicine", "这种病的并发症很多", "并发症"),
    ("law", "他向法院提起诉讼", "诉讼"),
    ("law", "原告要求被告赔偿损失", "原告"),
    ("law", "被告不服判决提出上诉", "上诉"),
    ("law", "双方同意通过仲裁解决", "仲裁"),
    ("law", "对方违约了", "违约"),
    ("law", "这种行为构成侵权", "侵权"),
    ("law", "要保护知识产权", "知识产权"),
    ("law", "这首歌的著作权归他所有", "著作权"),
    ("law", "公司注册了新商标", "商标"),
    ("law", "这项技术申请了专利", "专利"),
    ("law", "民法典自明年起施行", "民法典"),
    ("law", "犯罪嫌疑人被取保候审", "取保候审"),
    ("law", "他被判处有期徒刑三年", "有期徒刑"),
    ("law", "法院决定不予立案", "立案"),
    ("law", "律师为他做无罪辩护", "辩护"),
    ("law", "这份合同需要公证", "公证"),
    ("law", "劳动合同到期了", "劳动合同"),
    ("law", "他申请了劳动仲裁", "劳动仲裁"),
    ("law", "法官当庭宣判", "宣判"),
    ("law", "检察院提起公诉", "公诉"),
    ("food", "冬天最适合吃火锅", "火锅"),
    ("food", "她每天都要喝奶茶", "奶茶"),
    ("food", "早上来一杯咖啡", "咖啡"),
    ("food", "晚饭点了一份披萨", "披萨"),
    ("food", "他喜欢吃寿司", "寿司"),
    ("food", "楼下新开了一家麻辣烫", "麻辣烫"),
    ("food", "夏天的夜宵是小龙虾", "小龙虾"),
    ("food", "周末去吃烧烤", "烧烤"),
    ("food", "过年要包饺子", "饺子"),
    ("food", "早餐是豆浆和油条", "豆浆"),
    ("food", "螺蛳粉的味道很特别", "螺蛳粉"),
    ("food", "这家店的酸菜鱼很好吃", "酸菜鱼"),
    ("food", "妈妈做的红烧肉", "红烧肉"),
    ("food", "他点了一份宫保鸡丁", "宫保鸡丁"),
    ("food", "孩子们都爱吃炸鸡", "炸鸡"),
    ("food", "我买了一盒巧克力", "巧克力"),
    ("food", "夏天吃冰淇淋", "冰淇淋"),
    ("food", "早上喝一杯酸奶", "酸奶"),
    ("food", "生日那天吃了蛋糕", "蛋糕"),
    ("food", "我们在星巴克见面", "星巴克"),
    ("food", "孩子想去肯德基", "肯德基"),
    ("food", "门口有一家麦当劳", "麦当劳"),
    ("food", "他点了一份外卖", "外卖"),
    ("food", "这家餐厅的招牌菜是烤鸭", "烤鸭"),
    ("food", "晚上煮了一锅粥", "粥"),
    ("food", "这道菜用了很多花椒", "花椒"),
    ("cars", "新能源汽车的销量增长很快", "新能源"),
    ("cars", "他买了一辆电动车", "电动车"),
    ("cars", "这款车的续航有五百公里", "续航"),
    ("cars", "小区里装了充电桩", "充电桩"),
    ("cars", "发动机的声音很小", "发动机"),
    ("cars", "变速箱出了问题", "变速箱"),
    ("cars", "这辆车的油耗很低", "油耗"),
    ("cars", "自动驾驶还不够成熟", "自动驾驶"),
    ("cars", "特斯拉降价了", "特斯拉"),
    ("cars", "比亚迪的销量第一", "比亚迪"),
    ("cars", "他开的是宝马", "宝马"),
    ("cars", "奔驰发布了新车型", "奔驰"),
    ("cars", "他想买一辆越野车", "越野车"),
    ("cars", "轮胎需要换了", "轮胎"),
    ("cars", "刹车有点软", "刹车"),
    ("cars", "双手握住方向盘", "方向盘"),
    ("cars", "坐车要系安全带", "安全带"),
    ("cars", "他刚考了驾照", "驾照"),
    ("cars", "车险快到期了", "车险"),
    ("cars", "汽车每年都要保养", "保养"),
    ("cars", "这款车的底盘很稳", "底盘"),
    ("cars", "他在学倒车入库", "倒车"),
    ("cars", "高速公路上堵车了", "堵车"),
    ("places", "他在深圳工作", "深圳"),
    ("places", "杭州的西湖很美", "西湖"),
    ("places", "成都的美食很多", "成都"),
    ("places", "重庆是一座山城", "重庆"),
    ("places", "西安有很多古迹", "西安"),
    ("places", "她去乌鲁木齐出差", "乌鲁木齐"),
    ("places", "呼和浩特在内蒙古", "呼和浩特"),
    ("places", "哈尔滨的冬天很冷", "哈尔滨"),
    ("places", "他从石家庄来", "石家庄"),
    ("places", "我们去新加坡旅游", "新加坡"),
    ("places", "她在东京读书", "东京"),
    ("places", "纽约的房租很贵", "纽约"),
    ("places", "伦敦经常下雨", "伦敦"),
    ("places", "巴黎的埃菲尔铁塔", "埃菲尔铁塔"),
    ("places", "硅谷有很多科技公司", "硅谷"),
    ("places", "公司搬到了中关村", "中关村"),
    ("places", "陆家嘴是金融中心", "陆家嘴"),
    ("places", "长城是世界文化遗产", "长城"),
    ("places", "故宫每天限流", "故宫"),
    ("places", "我们去爬黄山", "黄山"),
    ("places", "九寨沟的水很清", "九寨沟"),
    ("places", "珠穆朗玛峰是世界最高峰", "珠穆朗玛峰"),
    ("places", "青藏高原的空气稀薄", "青藏高原"),
    ("places", "长江是中国最长的河", "长江"),
    ("places", "她在苏州长大", "苏州"),
    ("places", "三亚的海边人很多", "三亚"),
    ("places", "他去了一趟拉萨", "拉萨"),
    ("animals", "大熊猫是国宝", "大熊猫"),
    ("animals", "长颈鹿的脖子很长", "长颈鹿"),
    ("animals", "澳大利亚有很多袋鼠", "袋鼠"),
    ("animals", "企鹅生活在南极", "企鹅"),
    ("animals", "海豚是很聪明的动物", "海豚"),
    ("animals", "鲸鱼是哺乳动物", "鲸鱼"),
    ("animals", "河里有一条鳄鱼", "鳄鱼"),
    ("animals", "蝙蝠晚上出来活动", "蝙蝠"),
    ("animals", "刺猬身上都是刺", "刺猬"),
    ("animals", "树上有一只松鼠", "松鼠"),
    ("animals", "她养了一只仓鼠", "仓鼠"),
    ("animals", "我家的金毛很温顺", "金毛"),
    ("animals", "哈士奇很调皮", "哈士奇"),
    ("animals", "他养了一只柯基", "柯基"),
    ("animals", "这只鹦鹉会说话", "鹦鹉"),
    ("animals", "孔雀开屏了", "孔雀"),
    ("animals", "乌龟爬得很慢", "乌龟"),
    ("animals", "蜜蜂在采蜜", "蜜蜂"),
    ("animals", "花园里有很多蝴蝶", "蝴蝶"),
    ("animals", "夏天蚊子很多", "蚊子"),
    ("animals", "厨房里有蟑螂", "蟑螂"),
    ("animals", "穿山甲是保护动物", "穿山甲"),
    ("animals", "动物园里有羊驼", "羊驼"),
    ("animals", "考拉整天都在睡觉", "考拉"),
    ("animals", "猫头鹰在夜里捕食", "猫头鹰"),
    ("animals", "她养了一只布偶猫", "布偶猫"),
    ("brands", "华为发布了新手机", "华为"),
    ("brands", "小米的手机很便宜", "小米"),
    ("brands", "腾讯推出了新游戏", "腾讯"),
    ("brands", "他在阿里巴巴上班", "阿里巴巴"),
    ("brands", "有问题可以百度一下", "百度"),
    ("brands", "字节跳动的总部在北京", "字节跳动"),
    ("brands", "她每天刷抖音", "抖音"),
    ("brands", "我们用微信聊天", "微信"),
    ("brands", "这件衣服是在淘宝买的", "淘宝"),
    ("brands", "京东的快递很快", "京东"),
    ("brands", "拼多多上的东西很便宜", "拼多多"),
    ("brands", "我用美团点外卖", "美团"),
    ("brands", "下班打了一辆滴滴", "滴滴"),
    ("brands", "谷歌的搜索引擎", "谷歌"),
    ("brands", "微软发布了新系统", "微软"),
    ("brands", "亚马逊的云服务", "亚马逊"),
    ("brands", "他在英特尔工作", "英特尔"),
    ("brands", "三星的屏幕很好", "三星"),
    ("everyday", "今天有点累", "有点"),
    ("everyday", "这个问题有点难", "有点"),
    ("everyday", "上班要打卡", "打卡"),
    ("everyday", "大家都在吐槽这部电影", "吐槽"),
    ("everyday", "给大家安利一本书", "安利"),
    ("everyday", "这个人很靠谱", "靠谱"),
    ("everyday", "这个想法太奇葩了", "奇葩"),
    ("everyday", "她的颜值很高", "颜值"),
    ("everyday", "我们坐高铁去上海", "高铁"),
    ("everyday", "每天坐地铁上班", "地铁"),
    ("everyday", "骑共享单车去公司", "共享单车"),
    ("everyday", "下班后去健身房", "健身房"),
    ("everyday", "最近天天加班", "加班"),
    ("everyday", "快递已经到了", "快递"),
    ("everyday", "她很喜欢网购", "网购"),
    ("everyday", "出门带上充电宝", "充电宝"),
    ("everyday", "新买的蓝牙耳机", "耳机"),
    ("everyday", "手机屏幕碎了", "屏幕"),
    ("everyday", "周末一起去看电影", "电影"),
    ("everyday", "这家店的服务态度很差", "服务态度"),
    ("everyday", "明天早上八点开会", "开会"),
    ("everyday", "他昨天请了病假", "病假"),
    ("everyday", "这个周末要搬家", "搬家"),
    ("everyday", "孩子在上幼儿园", "幼儿园"),
    ("everyday", "我们去超市买东西", "超市"),
    ("everyday", "这件衣服有点贵", "有点"),
    ("everyday", "房间有点乱", "有点"),
    ("everyday", "今天的作业很多", "作业"),
    ("everyday", "他在准备考研", "考研"),
    ("everyday", "我们一起打游戏", "游戏"),
    ("it", "这个方法的鲁棒性很好", "鲁棒性"),
    ("it", "调整超参数需要时间", "超参数"),
    ("it", "模型在测试集上泛化得不错", "泛化"),
    ("it", "这个词向量是预训练的", "词向量"),
    ("it", "在下游任务上微调模型", "微调"),
    ("it", "交叉熵是常用的损失", "交叉熵"),
    ("it", "激活函数用的是sigmoid", "激活函数"),
    ("it", "学习率设得太大会发散", "学习率"),
    ("it", "训练了十轮以后收敛了", "收敛"),
    ("it", "召回率比上次提高了", "召回率"),
    ("it", "先算出样本的方差", "方差"),
    ("it", "标准差反映了波动", "标准差"),
    ("it", "求出矩阵的特征值", "特征值"),
    ("it", "对函数求偏导数", "偏导数"),
    ("it", "傅里叶变换在信号处理中很常用", "傅里叶变换"),
    ("it", "用动态规划求解", "动态规划"),
    ("it", "快速排序的平均复杂度", "快速排序"),
    ("it", "二分查找要求数组有序", "二分查找"),
    ("it", "两个线程发生了死锁", "死锁"),
    ("it", "消息先放进队列", "队列"),
    ("it", "对象需要先序列化", "序列化"),
    ("it", "程序支持高并发", "并发"),
    ("it", "这个系统是分布式的", "分布式"),
    ("it", "服务拆成了微服务", "微服务"),
    ("it", "用容器部署应用", "部署"),
    ("it", "运维人员在查看日志", "日志"),
    ("it", "在这一行设一个断点", "断点"),
    ("it", "代码里要多写注释", "注释"),
    ("it", "这个文件的编码不对", "编码"),
    ("it", "驱动程序需要更新", "驱动"),
    ("it", "系统打了一个补丁", "补丁"),
    ("it", "这颗芯片的功耗很低", "芯片"),
    ("it", "光刻机是关键设备", "光刻机"),
    ("it", "半导体行业发展很快", "半导体"),
    ("it", "物联网设备越来越多", "物联网"),
    ("it", "大数据改变了营销方式", "大数据"),
    ("it", "元宇宙是一个新概念", "元宇宙"),
    ("it", "他买了一台平板电脑", "平板电脑"),
    ("it", "无人机在空中拍照", "无人机"),
    ("it", "用人脸识别解锁手机", "人脸识别"),
    ("it", "语音识别的准确率提高了", "语音识别"),
    ("it", "这个表情包很搞笑", "表情包"),
    ("it", "这位博主更新了视频", "博主"),
    ("it", "这个帖子被顶上了热门", "帖子"),
    ("it", "网速太慢了", "网速"),
    ("it", "这个网站需要实名认证", "实名认证"),
    ("it", "手机自动更新了固件", "固件"),
    ("it", "这个软件有很多广告", "软件"),
    ("it", "聊天记录被删除了", "聊天记录"),
    ("finance", "他买了一些以太坊", "以太坊"),
    ("finance", "矿机的耗电量很大", "矿机"),
    ("finance", "私募基金的门槛很高", "私募"),
    ("finance", "股民们都很紧张", "股民"),
    ("finance", "加了杠杆以后爆仓了", "爆仓"),
    ("finance", "他选择做空这只股票", "做空"),
    ("finance", "亏损以后及时止损", "止损"),
    ("finance", "每个月定投一点基金", "定投"),
    ("finance", "这家公司在科创板上市", "科创板"),
    ("finance", "创业板的波动很大", "创业板"),
    ("finance", "港股今天大涨", "港股"),
    ("finance", "量化交易越来越流行", "量化"),
    ("finance", "对冲基金赚了很多钱", "对冲基金"),
    ("finance", "公司发布了年度财报", "财报"),
    ("finance", "今年的营收增长了两成", "营收"),
    ("finance", "净利润同比下降", "净利润"),
    ("finance", "这家店的毛利率很高", "毛利率"),
    ("finance", "数字货币的监管越来越严", "数字货币"),
    ("medicine", "他的抗原检测是阴性", "抗原"),
    ("medicine", "检测结果呈阳性", "阳性"),
    ("medicine", "出入要出示健康码", "健康码"),
    ("medicine", "他打了加强针", "加强针"),
    ("medicine", "医生监测病人的血氧", "血氧"),
    ("medicine", "靶向药的效果很好", "靶向药"),
    ("medicine", "干细胞研究取得进展", "干细胞"),
    ("medicine", "这种药可以用医保报销", "医保"),
    ("medicine", "基因编辑技术引起了争议", "基因编辑"),
    ("medicine", "他在互联网医院问诊", "问诊"),
    ("medicine", "孩子得了手足口病", "手足口病"),
    ("medicine", "流感疫苗每年都要打", "流感"),
    ("medicine", "他有轻微的脂肪肝", "脂肪肝"),
    ("medicine", "医生说是急性胃炎", "胃炎"),
    ("everyday", "现在的年轻人都很佛系", "佛系"),
    ("everyday", "公司里的内卷很严重", "内卷"),
    ("everyday", "他决定躺平了", "躺平"),
    ("everyday", "大家都在吃瓜", "吃瓜"),
    ("everyday", "他是班里的学霸", "学霸"),
    ("everyday", "今年终于脱单了", "脱单"),
    ("everyday", "这款衣服是爆款", "爆款"),
    ("everyday", "全场商品包邮", "包邮"),
    ("everyday", "他给了一个差评", "差评"),
    ("everyday", "收到货以后申请退货", "退货"),
    ("everyday", "打电话给客服", "客服"),
    ("everyday", "外卖骑手送餐很辛苦", "骑手"),
    ("everyday", "他下载了一个网约车软件", "网约车"),
    ("everyday", "进门先扫码", "扫码"),
    ("everyday", "这条新闻刷屏了", "刷屏"),
    ("everyday", "她在直播间带货", "带货"),
    ("everyday", "这家店在做秒杀活动", "秒杀"),
    ("everyday", "朋友给我种草了一支口红", "种草"),
    ("everyday", "他是个很有名的主播", "主播"),
    ("everyday", "这个视频的播放量很高", "播放量"),
    ("everyday", "她是一个萌新", "萌新"),
    ("everyday", "这个游戏很烧脑", "烧脑"),
    ("everyday", "手机电量有点低", "电量"),
    ("everyday", "快递小哥把包裹放在门口", "包裹"),
    ("food", "这家的奶茶是网红店", "网红店"),
    ("food", "她在减肥只吃沙拉", "沙拉"),
    ("food", "冰箱里有一瓶可乐", "可乐"),
    ("food", "他最爱吃榴莲", "榴莲"),
    ("food", "早餐吃了一个煎饼果子", "煎饼果子"),
    ("food", "这家的肠粉很正宗", "肠粉"),
    ("food", "周末去吃自助餐", "自助餐"),
    ("food", "我点了一杯拿铁", "拿铁"),
    ("brands", "蔚来的换电站", "蔚来"),
    ("brands", "他用的是荣耀手机", "荣耀"),
    ("brands", "哔哩哔哩上有很多视频", "哔哩哔哩"),
    ("brands", "小红书上有很多攻略", "小红书"),
    ("brands", "知乎上的回答很专业", "知乎"),
    ("brands", "她在闲鱼上卖旧衣服", "闲鱼"),
    ("brands", "他在网易做游戏", "网易"),
    ("brands", "台积电是最大的代工厂", "台积电"),
    ("brands", "高通发布了新芯片", "高通"),
    ("brands", "宁德时代生产电池", "宁德时代"),
    ("cars", "这款车是插电混动的", "混动"),
    ("cars", "电池的能量密度提高了", "能量密度"),
    ("cars", "他把车开进了洗车店", "洗车"),
    ("cars", "车载导航指错了路", "导航"),
    ("cars", "停车场已经满了", "停车场"),
    ("cars", "这辆车的百公里加速很快", "百公里"),
    ("animals", "她家的柴犬很可爱", "柴犬"),
    ("animals", "这只流浪猫很瘦", "流浪猫"),
    ("animals", "草原上有一群斑马", "斑马"),
    ("animals", "北极熊生活在冰上", "北极熊"),
    ("animals", "树上有一只啄木鸟", "啄木鸟"),
    ("animals", "水族馆里有很多水母", "水母"),
    ("places", "她在宁波工作", "宁波"),
    ("places", "他去雄安新区出差", "雄安"),
    ("places", "我们去迪士尼乐园玩", "迪士尼"),
    ("places", "前海是一个自贸区", "前海"),
    ("places", "他在曼谷旅游", "曼谷"),
    ("places", "首尔的冬天很冷", "首尔"),
    ("law", "他被列为失信被执行人", "失信"),
    ("law", "公司被约谈了", "约谈"),
    ("law", "警方对他进行了行政拘留", "行政拘留"),
    ("law", "这份遗嘱经过了公证", "遗嘱"),
    ("law", "他们签了保密协议", "保密协议"),
    ("law", "法院发出了限高令", "限高令"),
]

# Split by the model with jieba's lexicon alone; whole since the shipped
# model's lexicon holds seg's own list of modern words (dicts/lexicon_extra.txt,
# benchmarks/experiments/everyday.md), each also after 他说 and before 。.
WHOLE = [
    ("生成n个正态随机数", "正态"),
    ("常用的聚类算法", "聚类"),
    ("喜欢的话可以打赏一下", "打赏"),
    ("动物园里有羊驼", "羊驼"),
    ("物联网设备越来越多", "物联网"),
    ("医生监测病人的血氧", "血氧"),
    ("今年终于脱单了", "脱单"),
    ("这款衣服是爆款", "爆款"),
    ("这个游戏很烧脑", "烧脑"),
    ("小红书上有很多攻略", "小红书"),
    ("她在闲鱼上卖旧衣服", "闲鱼"),
    ("区块链技术的应用", "区块链"),
    ("周末我们去海底捞吃饭", "海底捞"),
]

# What the default standard keeps of PKU's conventions while it does so: a
# demonstrative or numeral with its measure word is one word (the weibo and
# ctb standards write 这 个, 一 个), a person's family name stands apart.
CONVENTIONS = [
    ("这个问题很重要", ["这个", "问题", "很", "重要"]),
    ("我买了一个苹果", ["我", "买", "了", "一个", "苹果"]),
    ("这个问题有点难", ["这个", "问题", "有点", "难"]),
    ("江泽民主席发表讲话", ["江", "泽民", "主席", "发表", "讲话"]),
    ("李鹏总理会见了客人", ["李", "鹏", "总理", "会见", "了", "客人"]),
]


def test_probe_is_well_formed():
    # Each word occurs in its sentence, and no case is listed twice.
    assert all(word in sentence for _, sentence, word in PROBE)
    assert len({(sentence, word) for _, sentence, word in PROBE}) == len(PROBE)
    assert set(WHOLE) <= {(sentence, word) for _, sentence, word in PROBE}


@pytest.mark.parametrize("sentence, word", WHOLE)
@pytest.mark.parametrize("before, after", [("", ""), ("他说", ""), ("", "。")])
def test_modern_words_of_the_lexicon_are_whole(segmenter, sentence, word, before, after):
    assert word in segmenter.cut(before + sentence + after)


@pytest.mark.parametrize("sentence, words", CONVENTIONS)
def test_default_standard_keeps_pku_conventions(segmenter, sentence, words):
    assert segmenter.cut(sentence) == words


# --- the newer word list that training (and everyday.py --extend-lexicon) adds to the lexicon

TRAINING = [[["还", "将", "出发"], ["他", "还", "将", "来"], ["还将", "到"]],  # 还将: seen 3 times, a word once
            [["国家", "的", "人"], ["国家", "安全"]]]  # 国家: seen twice, a word twice


@pytest.mark.parametrize("min_seen, gold_rate, dropped", [
    (1, 0.5, {"还将", "的人"}),  # 还将 1/3 gold, 的人 0/1
    (2, 0.5, {"还将"}),  # 的人 is seen once only
    (1, 0.3, {"的人"}),  # 1/3 of 还将 is enough
    (1, 1.0, {"还将", "的人"}),
    (4, 0.5, set()),
])
def test_contradicted_words_are_the_ones_the_annotators_cut(min_seen, gold_rate, dropped):
    pytest.importorskip("torch", reason="the training code needs torch (pip install .[train])")
    from segcli.training.data import contradicted

    # 聚类 never occurs in the training text: it is kept, whatever the settings.
    assert contradicted(["还将", "的人", "国家", "聚类"], TRAINING, min_seen, gold_rate) == dropped


def test_extended_lexicon_adds_han_words_of_two_to_five_characters(tmp_path):
    pytest.importorskip("torch", reason="the training code needs torch (pip install .[train])")
    from segcli.training.config import Config
    from segcli.training.data import extended_lexicon

    path = tmp_path / "words.txt"
    path.write_text("聚类 9\n还将\nGPU\n数组\n好\n区块链技术应用\n拟合\nA股\n打赏\n", encoding="utf-8")
    cfg = Config(lexicon_extra=str(path))
    words, info = extended_lexicon(["数组", "希望"], {"lexicon": "jieba", "words": 2}, cfg, TRAINING)
    assert words == ["数组", "希望", "聚类", "拟合", "打赏"]
    assert info["lexicon"] == "jieba" and info["words"] == 5
    assert info["extra"]["candidates"] == 5 and info["extra"]["contradicted"] == 1  # 还将
    assert info["extra"]["loose"] == 0  # a file has no frequencies to judge by
    assert info["extra"]["added"] == 4 and info["extra"]["path"] == "words.txt"


# log10 frequencies, as wordfreq's list gives them
FREQUENCIES = {"链是": -7.0, "链": -4.5, "是": -1.8, "聚类": -6.7, "聚": -5.0, "类": -3.8,
               "区块链": -6.0, "区块": -6.5, "链技术": -7.0, "技术": -3.4}


@pytest.mark.parametrize("word, min_pmi, expected", [
    ("链是", 0.0, False),  # -7.0 < -4.5 - 1.8: no more than 链 and 是 side by side
    ("聚类", 0.0, True),  # -6.7 > -8.8
    ("聚类", 2.5, False),  # by 2.1 only
    ("区块链", 0.0, True),  # 区块 + 链: -6.0 > -11.0; 区 is not listed, so 区 + 块链 is no test
    ("链技术", 0.0, True),  # -7.0 > -7.9 (a leftover that passes: the training text must catch it)
    ("链技术", 1.0, False),
    ("打赏", 0.0, True),  # not in the list: nothing to judge by
])
def test_cohesive_words_beat_their_parts_side_by_side(word, min_pmi, expected):
    pytest.importorskip("torch", reason="the training code needs torch (pip install .[train])")
    from segcli.training.data import cohesive

    assert cohesive(word, FREQUENCIES, min_pmi) is expected


def test_extended_lexicon_errors_are_one_line(tmp_path, monkeypatch):
    pytest.importorskip("torch", reason="the training code needs torch (pip install .[train])")
    import importlib.util

    from segcli.errors import CorpusError
    from segcli.training.config import Config
    from segcli.training.data import extended_lexicon

    with pytest.raises(CorpusError, match="lexicon_extra file not found"):
        extended_lexicon([], None, Config(lexicon_extra=str(tmp_path / "missing.txt")), TRAINING)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: None)
    with pytest.raises(CorpusError, match="pip install wordfreq"):
        extended_lexicon([], None, Config(lexicon_extra="wordfreq"), TRAINING)
