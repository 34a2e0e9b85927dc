"""Every word of the app in Simplified Chinese and English (no Streamlit import).

Rule titles and fix messages come from the rule profile and `posturecheck.report`;
this table holds the app's own labels, including streamlit-webrtc's buttons.
"""

from __future__ import annotations

from typing import Any

LANGS = ("zh", "en")
LANG_NAMES = {"zh": "中文", "en": "English"}

TEXT: dict[str, dict[str, str]] = {
    "app_title": {"zh": "仪态训练", "en": "Posture coach"},
    "nav_practice": {"zh": "练习", "en": "Practice"},
    "nav_review": {"zh": "视频点评", "en": "Review"},
    "nav_history": {"zh": "训练记录", "en": "History"},
    "nav_settings": {"zh": "设置", "en": "Settings"},
    "nav_kiosk": {"zh": "自助练习", "en": "Kiosk"},
    "section_trainee": {"zh": "学员", "en": "Trainee"},
    "section_trainer": {"zh": "培训师", "en": "Trainer"},
    "language": {"zh": "语言 / Language", "en": "Language / 语言"},
    "privacy_note": {"zh": "所有画面只在本机处理；除非在设置中开启，不保存任何视频画面。",
                     "en": "Everything is processed on this computer; no video frames are kept unless turned on in Settings."},
    # practice
    "practice_title": {"zh": "练习：实时仪态检查", "en": "Practice: live posture check"},
    "drill": {"zh": "练习项目", "en": "Drill"},
    "trainee": {"zh": "学员姓名（可选，填写后保存成绩）", "en": "Trainee name (optional; named sessions are saved)"},
    "standard": {"zh": "标准", "en": "Standard"},
    "trainee_short": {"zh": "学员", "en": "Trainee"},
    "standard_none": {"zh": "通用", "en": "General"},
    "standard_men": {"zh": "男士", "en": "Men"},
    "standard_women": {"zh": "女士", "en": "Women"},
    "camera_help": {"zh": "点击“开始”并允许使用摄像头。摄像头只在本机（localhost）或 HTTPS 地址下可用。站在离镜头 2–3 米处，让全身入镜。",
                    "en": "Press Start and allow the camera. Browsers give the camera only on localhost or HTTPS. Stand 2–3 m away with your whole body in view."},
    "camera_waiting": {"zh": "等待摄像头画面…", "en": "Waiting for the camera picture…"},
    "camera_no_picture": {"zh": "摄像头没有画面：请检查摄像头是否插好、是否被其他程序占用，然后点击“停止”再点“开始”。",
                          "en": "No picture from the camera: check that it is plugged in and not used by another program, then press Stop and Start."},
    "camera_stopped": {"zh": "摄像头未开启。点击“开始”进行练习。", "en": "The camera is off. Press Start to practise."},
    "live_error": {"zh": "实时分析出错：{error}。请点击“停止”再点“开始”。", "en": "Live analysis failed: {error}. Press Stop and Start again."},
    "no_person_live": {"zh": "画面中没有找到人：请站到镜头前，让全身入镜。", "en": "No one in view: step in front of the camera with your whole body visible."},
    "several_people": {"zh": "画面中有{n}人，正在检查最居中的一位。", "en": "{n} people in view: checking the one in the middle."},
    "checklist": {"zh": "检查清单", "en": "Checklist"},
    "hold_caption": {"zh": "已保持 {held:.1f} / {target:.0f} 秒", "en": "Held {held:.1f} / {target:.0f} s"},
    "step_of": {"zh": "第 {i} / {n} 步", "en": "Step {i} of {n}"},
    "late": {"zh": "超过规定时间（{limit:.0f} 秒）了，请尽快完成。", "en": "Past the time limit ({limit:.0f} s): do it now."},
    "detected": {"zh": "识别动作：{activity} · 机位：{view}", "en": "Detected: {activity} · view: {view}"},
    "perf": {"zh": "{fps:.0f} 帧/秒 · 延迟 {latency:.0f} 毫秒 · 丢弃 {dropped} 帧",
             "en": "{fps:.0f} fps · latency {latency:.0f} ms · {dropped} frames dropped"},
    "finish": {"zh": "结束并评分", "en": "Finish and score"},
    "restart": {"zh": "重新开始", "en": "Start over"},
    "drill_done": {"zh": "练习完成！", "en": "Drill complete!"},
    "score": {"zh": "得分", "en": "Score"},
    "no_score": {"zh": "还没有可评分的画面：请先站到镜头前练习。", "en": "Nothing to score yet: practise in front of the camera first."},
    "saved_for": {"zh": "成绩已保存到 {name} 的训练记录。", "en": "Saved to {name}'s history."},
    "not_saved": {"zh": "未填写学员姓名：成绩未保存。", "en": "No trainee named: the score was not saved."},
    "save_failed": {"zh": "保存失败：{error}", "en": "Could not save: {error}"},
    "lan_refused": {"zh": "此服务器监听在所有网络接口上，局域网内任何人都能访问。请用 `posturecheck app` 启动，"
                          "或加上 `--server.address 127.0.0.1`（对外开放请参阅 README）。",
                    "en": "This server listens on every network interface, so anyone on the LAN could open it. "
                          "Start it with `posturecheck app`, or add `--server.address 127.0.0.1` "
                          "(to open it to the LAN, see the README)."},
    "max_megapixels": {"zh": "照片最大像素（百万）", "en": "Largest photo (megapixels)"},
    "max_megapixels_help": {"zh": "更大的照片在解码前就被拒绝（JPEG 会缩小解码），以免占满内存。",
                            "en": "Larger photos are refused before decoding (JPEGs are decoded reduced), so a tiny "
                                  "file cannot take all the memory."},
    "pin_first_use": {"zh": "首次使用：请设置培训师 PIN（至少 4 位）。训练记录、视频点评和设置页面需要它才能打开。",
                      "en": "First use: choose a trainer PIN (4 characters or more). History, Review and Settings open only with it."},
    "pin_new": {"zh": "新 PIN", "en": "New PIN"},
    "pin_confirm": {"zh": "再输入一次", "en": "New PIN again"},
    "pin_set": {"zh": "设置 PIN", "en": "Set PIN"},
    "pin_locked": {"zh": "培训师页面已锁定，请输入培训师 PIN。", "en": "Trainer pages are locked: enter the trainer PIN."},
    "pin": {"zh": "培训师 PIN", "en": "Trainer PIN"},
    "pin_unlock": {"zh": "解锁", "en": "Unlock"},
    "pin_wrong": {"zh": "PIN 不正确。", "en": "Wrong PIN."},
    "pin_wait": {"zh": "PIN 错误次数过多，请 {s:.0f} 秒后再试。", "en": "Too many wrong PINs: try again in {s:.0f} s."},
    "pin_lock_now": {"zh": "锁定培训师页面", "en": "Lock trainer pages"},
    "pin_change_title": {"zh": "培训师 PIN", "en": "Trainer PIN"},
    "pin_current": {"zh": "当前 PIN", "en": "Current PIN"},
    "pin_change": {"zh": "修改 PIN", "en": "Change PIN"},
    "pin_changed": {"zh": "PIN 已修改。", "en": "PIN changed."},
    "save_pending": {"zh": "成绩已暂存，稍后自动写入训练记录：{error}", "en": "Score kept; it will be added to the history shortly: {error}"},
    "saved_anonymous": {"zh": "成绩已保存（匿名）。", "en": "Score saved (anonymous)."},
    "steps_timing": {"zh": "第 {i} 步用时 {s:.1f} 秒{ok}", "en": "Step {i}: reached after {s:.1f} s{ok}"},
    "in_time": {"zh": "（按时）", "en": " (in time)"},
    "too_slow": {"zh": "（太慢）", "en": " (too slow)"},
    # review
    "review_title": {"zh": "视频点评", "en": "Review a recorded drill"},
    "upload": {"zh": "上传练习视频或照片", "en": "Upload a recorded drill (video or photo)"},
    "upload_help": {"zh": "最大 {mb} MB。文件只在本机分析，分析后即删除。", "en": "Up to {mb} MB. Analysed on this computer and deleted right after."},
    "too_big": {"zh": "{name} 太大（{size:.0f} MB），上限为 {mb} MB。", "en": "{name} is too large ({size:.0f} MB); the limit is {mb} MB."},
    "activity": {"zh": "动作", "en": "Activity"},
    "bad_type": {"zh": "{name}：不支持此类文件。可用类型：{types}", "en": "{name}: this file type is not supported. Allowed: {types}"},
    "analyse": {"zh": "开始分析", "en": "Analyse"},
    "analysing": {"zh": "正在分析 {name}…", "en": "Analysing {name}…"},
    "analysing_n": {"zh": "正在分析 {name}：第 {done} / {total} 帧", "en": "Analysing {name}: frame {done} of {total}"},
    "making_video": {"zh": "正在生成带标注的视频…", "en": "Making the annotated video…"},
    "verdicts": {"zh": "结论", "en": "Verdicts"},
    "timeline": {"zh": "逐项时间线", "en": "Per-rule timeline"},
    "violations": {"zh": "违规记录", "en": "Violations"},
    "no_violations": {"zh": "没有持续的违规。", "en": "No sustained violations."},
    "jump": {"zh": "跳转", "en": "Jump"},
    "video": {"zh": "视频", "en": "Video"},
    "annotated_video": {"zh": "带标注的视频", "en": "Annotated video"},
    "original_video": {"zh": "原视频（本机尚未安装标注视频模块）", "en": "Original video (annotated video not available here)"},
    "download_json": {"zh": "下载报告（JSON）", "en": "Download report (JSON)"},
    "download_html": {"zh": "下载报告（HTML）", "en": "Download report (HTML)"},
    "download_video": {"zh": "下载带标注的视频", "en": "Download annotated video"},
    "download_all": {"zh": "下载全部（视频、HTML、CSV，ZIP）", "en": "Download all (video, HTML, CSV as ZIP)"},
    "save_history": {"zh": "保存到训练记录", "en": "Save to history"},
    "warnings": {"zh": "提示", "en": "Notes"},
    "rule": {"zh": "规则", "en": "Rule"},
    "status": {"zh": "结果", "en": "Result"},
    "value": {"zh": "测量值", "en": "Value"},
    "limit": {"zh": "标准", "en": "Limit"},
    "failed_pct": {"zh": "不合格占比", "en": "Failed"},
    "advice": {"zh": "建议", "en": "Advice"},
    "time_s": {"zh": "时间（秒）", "en": "Time (s)"},
    "from_to": {"zh": "{a:.1f}–{b:.1f} 秒", "en": "{a:.1f}–{b:.1f} s"},
    "photo_note": {"zh": "照片只能判断单帧规则。", "en": "A photo can only show single-frame rules."},
    # history
    "history_title": {"zh": "训练记录", "en": "Training history"},
    "all_trainees": {"zh": "全部学员", "en": "All trainees"},
    "no_sessions": {"zh": "还没有训练记录。在“练习”或“视频点评”中填写学员姓名即可保存。",
                    "en": "No sessions yet. Name a trainee on Practice or Review to save one."},
    "sessions": {"zh": "训练记录", "en": "Sessions"},
    "score_trend": {"zh": "得分趋势", "en": "Score over time"},
    "rule_trend": {"zh": "逐项规则趋势", "en": "Per-rule trend"},
    "pass_rate": {"zh": "合格率", "en": "Pass rate"},
    "download_csv": {"zh": "导出 CSV", "en": "Export CSV"},
    "session_detail": {"zh": "查看某次记录", "en": "Open a session"},
    "delete_trainee": {"zh": "删除该学员及其全部记录", "en": "Delete this trainee and all their sessions"},
    "confirm_delete": {"zh": "确认删除", "en": "Yes, delete"},
    "deleted": {"zh": "已删除 {name}。", "en": "Deleted {name}."},
    "stored_where": {"zh": "记录保存在 {path}（只保存得分和各项结果，不保存画面）。",
                     "en": "Stored in {path} (scores and per-rule results only, no video frames)."},
    "history_error": {"zh": "无法打开训练记录：{error}", "en": "Cannot open the history: {error}"},
    "when": {"zh": "时间", "en": "When"},
    "source": {"zh": "来源", "en": "Source"},
    "source_live": {"zh": "实时练习", "en": "Live practice"},
    "source_upload": {"zh": "视频点评", "en": "Reviewed upload"},
    "source_kiosk": {"zh": "自助练习", "en": "Kiosk"},
    "duration": {"zh": "时长（秒）", "en": "Duration (s)"},
    # settings
    "settings_title": {"zh": "设置", "en": "Settings"},
    "general": {"zh": "常规", "en": "General"},
    "default_language": {"zh": "默认语言", "en": "Default language"},
    "live_model": {"zh": "实时模型", "en": "Live model"},
    "review_model": {"zh": "视频点评模型", "en": "Review model"},
    "model_help": {"zh": "lite 更快（实时练习推荐），full 更准。", "en": "lite is faster (recommended live), full is more accurate."},
    "camera_resolution": {"zh": "摄像头分辨率", "en": "Camera resolution"},
    "upload_limit": {"zh": "上传大小上限（MB）", "en": "Upload size limit (MB)"},
    "upload_limit_help": {"zh": "`posturecheck app` 下次启动时也按此设置服务器上限。",
                          "en": "`posturecheck app` also sets the server's limit from this at its next start."},
    "keep_video": {"zh": "保存练习视频（带标注）到本机", "en": "Keep practice videos (annotated) on this computer"},
    "keep_video_help": {"zh": "默认关闭：不保存任何画面。开启后视频保存在 {path}。",
                        "en": "Off by default: no frames are kept. When on, videos go to {path}."},
    "ice": {"zh": "ICE / TURN 服务器（JSON）", "en": "ICE / TURN servers (JSON)"},
    "ice_help": {"zh": "本机使用留空 []。局域网或 HTTPS 部署时填写，例如 [{\"urls\": [\"turn:host:3478\"], \"username\": \"u\", \"credential\": \"p\"}]",
                 "en": "Leave [] for localhost. For LAN or HTTPS deployments, e.g. [{\"urls\": [\"turn:host:3478\"], \"username\": \"u\", \"credential\": \"p\"}]"},
    "ice_bad": {"zh": "ICE 配置无效：{error}", "en": "Invalid ICE configuration: {error}"},
    "kiosk_settings": {"zh": "自助练习（Kiosk）", "en": "Kiosk"},
    "kiosk_idle": {"zh": "无人多少秒后重置", "en": "Reset after this many idle seconds"},
    "kiosk_keep": {"zh": "自助练习保存内容", "en": "What the kiosk keeps"},
    "keep_nothing": {"zh": "不保存", "en": "Nothing"},
    "keep_scores": {"zh": "匿名得分", "en": "Anonymous scores"},
    "history_url": {"zh": "共享训练记录（PostgreSQL 地址，留空则保存在本机）", "en": "Shared history (PostgreSQL URL; empty = on this computer)"},
    "history_url_help": {"zh": "多台自助机和多位教练共用学员和记录：postgresql://用户@主机:5432/数据库。密码建议写在 ~/.pgpass，不写在这里。"
                                "服务器暂时连不上时，成绩先保存在本机，恢复后自动写入。需要 pip install 'posturecheck[postgres]'。",
                         "en": "Several kiosks and trainers share trainees and sessions: postgresql://user@host:5432/database. Keep "
                               "the password in ~/.pgpass rather than here. While the server is away, scores are kept on this "
                               "computer and written when it answers. Needs pip install 'posturecheck[postgres]'."},
    "history_url_bad": {"zh": "训练记录地址应以 postgresql:// 开头，或留空。", "en": "The history URL must start with postgresql://, or be empty."},
    "history_url_ok": {"zh": "已连接共享训练记录：{where}", "en": "Connected to the shared history: {where}"},
    "history_url_offline": {"zh": "已保存，但现在连不上 {where}（{error}）；成绩会先保存在本机，服务器恢复后写入。",
                            "en": "Saved, but {where} is not answering now ({error}); scores are kept on this computer and "
                                  "written when it answers."},
    "history_env_wins": {"zh": "本次运行使用启动参数 --history-url 指定的训练记录：{where}",
                         "en": "This run uses the history given with --history-url: {where}"},
    "save_settings": {"zh": "保存设置", "en": "Save settings"},
    "settings_saved": {"zh": "设置已保存到 {path}。", "en": "Settings saved to {path}."},
    "profile_title": {"zh": "规则标准（限值）", "en": "Rule profile (limits)"},
    "profile_help": {"zh": "修改后点击保存：先检查有效，再写入 {path}。", "en": "Edit and save: the profile is validated, then written to {path}."},
    "profile_in_use": {"zh": "当前使用：{source}", "en": "In use: {source}"},
    "save_profile": {"zh": "保存规则标准", "en": "Save profile"},
    "reset_profile": {"zh": "恢复默认标准", "en": "Reset to the default profile"},
    "profile_saved": {"zh": "规则标准已保存到 {path}。", "en": "Profile saved to {path}."},
    "profile_reset": {"zh": "已恢复默认规则标准。", "en": "The default profile is back in use."},
    "profile_bad": {"zh": "规则标准无效，未保存：{error}", "en": "The profile is not valid and was not saved: {error}"},
    "profile_load_bad": {"zh": "用户规则标准无法读取，已改用默认：{error}", "en": "The user profile cannot be read; using the default: {error}"},
    "min_duration": {"zh": "最短持续（秒）", "en": "Min. duration (s)"},
    "severity": {"zh": "严重程度", "en": "Severity"},
    "check_n": {"zh": "检查", "en": "Check"},
    "feature": {"zh": "测量项", "en": "Measurement"},
    "min": {"zh": "下限", "en": "Min"},
    "max": {"zh": "上限", "en": "Max"},
    "unit": {"zh": "单位", "en": "Unit"},
    "rule_settings": {"zh": "规则", "en": "Rules"},
    "check_limits": {"zh": "数值限值", "en": "Numeric limits"},
    # kiosk
    "kiosk_title": {"zh": "仪态自助练习", "en": "Posture self-practice"},
    "kiosk_welcome": {"zh": "请站到镜头前 2–3 米处，让全身入镜", "en": "Stand 2–3 m in front of the camera, whole body in view"},
    "kiosk_done": {"zh": "完成！得分 {score}", "en": "Done! Score {score}"},
    "kiosk_next": {"zh": "{s:.0f} 秒后重新开始", "en": "Starting again in {s:.0f} s"},
    "kiosk_all_good": {"zh": "很好，保持！", "en": "Good, keep it!"},
    "kiosk_camera": {"zh": "正在打开摄像头…", "en": "Opening the camera…"},
    # statuses
    "pass": {"zh": "合格", "en": "pass"},
    "fail": {"zh": "不合格", "en": "fail"},
    "unknown": {"zh": "无法判断", "en": "unknown"},
    "drill_free": {"zh": "自由练习", "en": "Free practice"},
    "auto_detect": {"zh": "自动识别", "en": "Auto-detect"},
}

WEBRTC_TRANSLATIONS: dict[str, dict[str, str]] = {
    "zh": {
        "start": "开始",
        "stop": "停止",
        "select_device": "选择设备",
        "media_api_not_available": "浏览器无法使用摄像头：请用 localhost 或 HTTPS 地址打开本页",
        "device_ask_permission": "请允许本页使用摄像头",
        "device_not_available": "找不到摄像头：请接好摄像头后重试",
        "device_access_denied": "摄像头权限被拒绝：请在浏览器地址栏中允许使用摄像头后重试",
        "turn_camera_on": "打开摄像头",
        "turn_camera_off": "关闭摄像头",
        "mute_microphone": "静音",
        "unmute_microphone": "取消静音",
        "select_camera": "选择摄像头",
        "select_microphone": "选择麦克风",
    },
    "en": {
        "start": "Start",
        "stop": "Stop",
        "select_device": "Select device",
        "media_api_not_available": "The camera is not available here: open this page on localhost or HTTPS",
        "device_ask_permission": "Please allow this page to use the camera",
        "device_not_available": "No camera found: plug one in and try again",
        "device_access_denied": "Camera access was denied: allow it in the browser's address bar and try again",
        "turn_camera_on": "Turn camera on",
        "turn_camera_off": "Turn camera off",
        "mute_microphone": "Mute",
        "unmute_microphone": "Unmute",
        "select_camera": "Select camera",
        "select_microphone": "Select microphone",
    },
}

STATUS_ICONS = {"pass": "✓", "fail": "✗", "unknown": "?"}  # plain glyphs: no emoji font needed


def norm_lang(lang: str | None) -> str:
    return "zh" if (lang or "zh").lower().startswith("zh") else "en"


def t(key: str, lang: str, **kw: Any) -> str:
    """The text for `key` in `lang` (falls back to English, then the key)."""
    entry = TEXT.get(key)
    if entry is None:
        return key
    text = entry.get(norm_lang(lang)) or entry.get("en", key)
    if kw:
        try:
            return text.format(**kw)
        except (KeyError, ValueError, IndexError):
            return text
    return text
