namespace Tuwen.Corpus.Text;

/// <summary>
/// Character-by-character Traditional → Simplified conversion over a built-in table of about 550 frequent
/// characters (written for this project; no data is fetched at run time). It is deliberately small: it covers
/// the characters that dominate captions (们/个/这/国/图/点击 …) so that the same caption in both scripts
/// counts as one for the frequency rule and de-duplication. It skips characters whose simplified form depends
/// on the word (乾, 著, 瞭 …) and does no phrase-level conversion, so rare characters pass unchanged.
/// </summary>
public static class TraditionalToSimplified
{
    // Pairs "繁简" separated by spaces.
    private const string Table =
        "們们 個个 來来 時时 會会 說说 説说 為为 對对 這这 國国 學学 開开 關关 長长 門门 問问 間间 見见 現现 發发 髮发 聽听 " +
        "車车 東东 馬马 鳥鸟 魚鱼 龍龙 書书 筆笔 畫画 電电 話话 語语 讀读 寫写 網网 頁页 號号 圖图 檔档 標标 題题 點点 擊击 " +
        "愛爱 戰战 聲声 飛飞 風风 雲云 氣气 陽阳 陰阴 節节 葉叶 樹树 園园 場场 廣广 廳厅 廠厂 醫医 藥药 衛卫 護护 雜杂 誌志 " +
        "報报 紙纸 經经 濟济 農农 業业 產产 價价 錢钱 銀银 貨货 買买 賣卖 貴贵 費费 資资 質质 華华 夢梦 歲岁 歷历 曆历 灣湾 " +
        "臺台 島岛 嶼屿 區区 縣县 鄉乡 鎮镇 鐵铁 鋼钢 銅铜 錶表 鐘钟 鍾钟 針针 線线 紅红 綠绿 藍蓝 黃黄 顏颜 淺浅 滿满 測测 " +
        "湯汤 溫温 涼凉 熱热 燈灯 燒烧 煙烟 爐炉 爺爷 兒儿 孫孙 媽妈 婦妇 嬰婴 親亲 幾几 義义 藝艺 術术 劇剧 團团 體体 運运 " +
        "動动 頭头 臉脸 膚肤 腦脑 鬍胡 顯显 顧顾 預预 領领 頻频 額额 類类 願愿 辦办 務务 勞劳 勢势 勵励 權权 歡欢 觀观 覺觉 " +
        "規规 視视 記记 設设 計计 訂订 認认 識识 試试 詩诗 課课 調调 談谈 請请 論论 謝谢 講讲 證证 議议 讓让 變变 貓猫 豬猪 " +
        "雞鸡 鴨鸭 鵝鹅 鷹鹰 鶴鹤 蝦虾 蟲虫 蠶蚕 麗丽 漢汉 漁渔 滬沪 濤涛 潔洁 澤泽 濕湿 灑洒 災灾 無无 與与 萬万 億亿 從从 " +
        "眾众 傳传 傷伤 優优 倆俩 儀仪 僅仅 備备 創创 劃划 劍剑 勝胜 協协 單单 廚厨 參参 雙双 嗎吗 喬乔 嚴严 圍围 圓圆 塊块 " +
        "壞坏 壓压 壽寿 奪夺 奮奋 寧宁 寶宝 實实 寵宠 審审 將将 專专 尋寻 導导 層层 屬属 嶺岭 師师 帶带 幫帮 幣币 庫库 廢废 " +
        "張张 彈弹 彎弯 徑径 復复 複复 後后 戀恋 態态 憶忆 應应 懷怀 戲戏 擁拥 擇择 擔担 據据 擴扩 攝摄 攤摊 敗败 敵敌 數数 " +
        "斷断 暫暂 曬晒 條条 極极 樂乐 樓楼 樣样 橋桥 機机 檢检 櫃柜 歸归 殺杀 決决 沒没 況况 淚泪 準准 溝沟 滅灭 滯滞 漲涨 " +
        "潛潜 濃浓 燦灿 爭争 牆墙 狀状 獨独 獎奖 獲获 環环 瑪玛 畢毕 當当 療疗 盡尽 監监 盤盘 矯矫 礎础 確确 禮礼 禪禅 種种 " +
        "稱称 穩稳 窮穷 競竞 範范 築筑 簡简 粵粤 糧粮 紀纪 約约 級级 純纯 細细 終终 組组 結结 給给 統统 絕绝 絲丝 綜综 維维 " +
        "緊紧 練练 總总 績绩 織织 繼继 續续 罰罚 羅罗 聖圣 聞闻 聯联 職职 腳脚 舉举 舊旧 艦舰 莊庄 蘇苏 蘭兰 處处 補补 裝装 " +
        "製制 覽览 訊讯 許许 訴诉 評评 詞词 誤误 誰谁 貝贝 負负 責责 貿贸 賀贺 賓宾 賞赏 賴赖 賽赛 贈赠 贊赞 趕赶 趨趋 跡迹 " +
        "躍跃 軍军 軟软 較较 載载 輕轻 輛辆 輪轮 輸输 轉转 辭辞 連连 進进 遊游 過过 達达 違违 遠远 適适 遲迟 選选 遺遗 還还 " +
        "邊边 鄰邻 醜丑 釋释 鈴铃 錄录 錯错 鍵键 鏡镜 閃闪 閉闭 閱阅 闊阔 陳陈 陸陆 隊队 階阶 際际 隨随 險险 隱隐 雖虽 離离 " +
        "難难 靈灵 靜静 響响 頂顶 項项 順顺 須须 頓顿 頸颈 顆颗 飯饭 飲饮 飾饰 餅饼 養养 館馆 驗验 騎骑 驚惊 驅驱 鬥斗 鬧闹 " +
        "魯鲁 鮮鲜 鳳凤 鳴鸣 麥麦 黨党 齊齐 齒齿 龜龟 貼贴 載载 優优 戶户 蘋苹 葡葡 萊莱 壺壶 碼码 碗碗 夠够 衝冲 賺赚 購购 " +
        "獸兽 貓猫 巖岩 濱滨 灘滩 嶽岳 礦矿 燕燕 鑽钻 倉仓 側侧 偉伟 係系 備备 價价 儲储 兩两 冊册 凍冻 則则 剛刚 劉刘 勁劲 " +
        "匯汇 卻却 厲厉 縮缩 啟启 喚唤 嘆叹 噴喷 園园 壇坛 夥伙 奧奥 妝妆 姦奸 娛娱 婚婚 嫻娴 孃娘 寢寝 尷尴 屆届 峽峡 崗岗 " +
        "幹干 庭庭 廟庙 弒弑 彙汇 徵征 恆恒 惡恶 惱恼 愛爱 慶庆 憂忧 懶懒 懸悬 戀恋 拋抛 挾挟 捨舍 掃扫 掛挂 換换 揮挥 損损 " +
        "搖摇 搶抢 撐撑 撥拨 擠挤 擬拟 擺摆 擾扰 攜携 敘叙 斃毙 晝昼 暈晕 曉晓 朧胧 村村 杰杰 東东 枱台 棄弃 棟栋 森森";

    private static readonly Dictionary<char, char> Map = Build();

    public static int Coverage => Map.Count;

    private static Dictionary<char, char> Build()
    {
        var map = new Dictionary<char, char>();
        foreach (var pair in Table.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (pair.Length != 2) throw new InvalidOperationException($"bad pair in conversion table: {pair}");
            if (pair[0] != pair[1]) map[pair[0]] = pair[1];
        }
        return map;
    }

    internal static IReadOnlyDictionary<char, char> Pairs => Map;

    public static string Convert(string text)
    {
        char[]? buffer = null;
        for (var i = 0; i < text.Length; i++)
        {
            if (!Map.TryGetValue(text[i], out var simplified)) continue;
            buffer ??= text.ToCharArray();
            buffer[i] = simplified;
        }
        return buffer is null ? text : new string(buffer);
    }
}
