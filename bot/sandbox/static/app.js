/* The cchc-bot sandbox web chat: plain JS, no build step, nothing fetched from outside.
 *
 * It talks only to the sandbox's bridge (/api/...), which forwards to the Telegram Bot API emulator.
 * Bot messages arrive in Bot API shape (text + entities with UTF-16 offsets); they are rendered by
 * building DOM nodes, never by assigning HTML, so nothing a user typed can inject markup.
 */
"use strict";

(function () {
  const T = {
    vi: {
      title: "Chỉ số CCHC · Sandbox",
      subtitle: "Trò chuyện với bot thật, dữ liệu demo",
      intro: "Chọn một người dùng demo để trò chuyện với bot như trên Telegram.",
      reset: "Đặt lại demo",
      reset_note: "Khôi phục dữ liệu mẫu và xoá mọi cuộc trò chuyện, dùng trước mỗi buổi tập huấn.",
      reset_confirm: "Đặt lại toàn bộ dữ liệu demo và xoá mọi cuộc trò chuyện?",
      reset_done: "Đã đặt lại dữ liệu demo.",
      back: "Người dùng",
      menu: "Lệnh",
      attach: "Gửi tệp",
      keyboard: "Bàn phím",
      send: "Gửi",
      placeholder: "Tin nhắn",
      as: "Bạn là: ",
      empty: "Chưa có tin nhắn. Gõ /start hoặc chọn lệnh bằng nút /.",
      pick: "Chọn một người dùng ở bên trái",
      edited: "đã sửa",
      error: "Lỗi: ",
      uploading: "Đang gửi tệp…",
      no_commands: "Bot chưa đặt lệnh cho cuộc trò chuyện này.",
      today: "Hôm nay",
      typing: "bot đang nhập…",
      sending: "bot đang gửi tệp…",
    },
    en: {
      title: "PAR Index · Sandbox",
      subtitle: "Chat with the real bot on demo data",
      intro: "Pick a demo person to chat with the bot as on Telegram.",
      reset: "Reset demo",
      reset_note: "Restores the sample data and clears every chat; use it before each training session.",
      reset_confirm: "Reset all demo data and clear every chat?",
      reset_done: "Demo data restored.",
      back: "People",
      menu: "Commands",
      attach: "Send a file",
      keyboard: "Keyboard",
      send: "Send",
      placeholder: "Message",
      as: "You are: ",
      empty: "No messages yet. Type /start or pick a command with the / button.",
      pick: "Pick a person on the left",
      edited: "edited",
      error: "Error: ",
      uploading: "Sending the file…",
      no_commands: "The bot has set no commands for this chat.",
      today: "Today",
      typing: "bot is typing…",
      sending: "bot is sending a file…",
    },
  };
  let lang = localStorage.getItem("cchc-sandbox-lang") === "en" ? "en" : "vi";
  const t = (key) => T[lang][key] || T.vi[key] || key;

  const $ = (sel) => document.querySelector(sel);
  const app = $("#app");
  const list = $("#messages");
  const input = $("#composer-input");
  const fileInput = $("#file-input");
  const replyKb = $("#reply-kb");
  const commandsBox = $("#commands");
  const toast = $("#toast");

  let personas = [];
  let current = null; // persona object
  let source = null; // EventSource of the current chat
  let loadToken = 0; // guards against a slow transcript of a persona we already left
  let replyKeyboard = null;
  let replyKbHidden = false;
  let commands = [];

  // ---------------------------------------------------------------- helpers
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v === undefined || v === null || v === false) continue;
        if (k === "class") node.className = v;
        else if (k === "text") node.textContent = v;
        else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
        else node.setAttribute(k, v === true ? "" : String(v));
      }
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c);
    return node;
  }

  async function api(method, path, body) {
    const opts = { method, headers: {} };
    if (body instanceof FormData) opts.body = body;
    else if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json; charset=utf-8";
      opts.body = JSON.stringify(body);
    }
    const res = await fetch(path, opts);
    let data = null;
    try { data = await res.json(); } catch (_) { data = null; }
    if (!res.ok) throw new Error((data && (data.error || data.description)) || res.status + " " + res.statusText);
    return data;
  }

  let toastTimer = null;
  function showToast(text, alert) {
    toast.textContent = text;
    toast.classList.toggle("alert", !!alert);
    toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { toast.hidden = true; }, alert ? 4000 : 2200);
  }
  toast.addEventListener("click", () => { toast.hidden = true; });

  function safeUrl(url) {
    try {
      const u = new URL(url, location.href);
      return ["http:", "https:", "mailto:", "tel:", "tg:"].includes(u.protocol) ? u.href : null;
    } catch (_) { return null; }
  }

  function initials(name) {
    const parts = String(name || "?").trim().split(/\s+/).filter(Boolean);
    const pick = parts.length > 1 ? parts[parts.length - 2][0] + parts[parts.length - 1][0] : (parts[0] || "?").slice(0, 2);
    return pick.toUpperCase();
  }

  function formatSize(n) {
    if (!n && n !== 0) return "";
    if (n < 1024) return n + " B";
    if (n < 1024 * 1024) return (n / 1024).toFixed(1).replace(".", lang === "vi" ? "," : ".") + " KB";
    return (n / 1024 / 1024).toFixed(1).replace(".", lang === "vi" ? "," : ".") + " MB";
  }

  function formatTime(ts) {
    const d = new Date((ts || 0) * 1000);
    return String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0");
  }

  // ------------------------------------------------------- entities → DOM
  // Offsets are UTF-16 code units, which is exactly how JS strings index.
  function entityNode(e, text) {
    switch (e.type) {
      case "bold": return el("b");
      case "italic": return el("i");
      case "underline": return el("u");
      case "strikethrough": return el("s");
      case "code": return el("code");
      case "pre": {
        const pre = el("pre");
        if (e.language) pre.dataset.language = e.language;
        return pre;
      }
      case "blockquote":
      case "expandable_blockquote": return el("blockquote");
      case "spoiler": {
        const s = el("span", { class: "spoiler" });
        s.addEventListener("click", () => s.classList.add("shown"));
        return s;
      }
      case "text_link": {
        const href = safeUrl(e.url || "");
        return href ? el("a", { href, target: "_blank", rel: "noopener noreferrer" }) : el("span");
      }
      case "url": {
        const raw = text.startsWith("http") ? text : "https://" + text;
        const href = safeUrl(raw);
        return href ? el("a", { href, target: "_blank", rel: "noopener noreferrer" }) : el("span");
      }
      case "email": return el("a", { href: "mailto:" + text });
      case "phone_number": return el("a", { href: "tel:" + text.replace(/[^+\d]/g, "") });
      case "mention":
      case "hashtag":
      case "cashtag":
      case "bot_command":
      case "text_mention": return el("span", { class: "link-like" });
      default: return el("span");
    }
  }

  function renderEntities(text, entities) {
    const frag = document.createDocumentFragment();
    const sorted = (entities || [])
      .filter((e) => e && e.length > 0 && e.offset >= 0)
      .slice()
      .sort((a, b) => a.offset - b.offset || b.length - a.length);
    function build(parent, start, end, ents) {
      let pos = start;
      let i = 0;
      while (i < ents.length) {
        const e = ents[i];
        const eStart = Math.max(e.offset, pos);
        const eEnd = Math.min(e.offset + e.length, end);
        i++;
        if (eEnd <= eStart) continue;
        if (eStart > pos) parent.append(text.slice(pos, eStart));
        const inner = [];
        while (i < ents.length && ents[i].offset < eEnd) inner.push(ents[i++]);
        const node = entityNode(e, text.slice(eStart, eEnd));
        const target = e.type === "pre" ? node.appendChild(el("code")) : node;
        build(target, eStart, eEnd, inner);
        parent.append(node);
        pos = eEnd;
        // Entities overlapping past this one's end continue after it.
        for (const rest of inner) {
          if (rest.offset + rest.length > eEnd) {
            ents.splice(i, 0, { ...rest, offset: eEnd, length: rest.offset + rest.length - eEnd });
          }
        }
      }
      if (pos < end) parent.append(text.slice(pos, end));
    }
    build(frag, 0, text.length, sorted);
    return frag;
  }

  // --------------------------------------------------------- message view
  const isOut = (m) => !(m.from && m.from.is_bot);

  function fileUrl(fileId, name, download) {
    let q = "";
    if (name) q += (q ? "&" : "?") + "name=" + encodeURIComponent(name);
    if (download) q += (q ? "&" : "?") + "download=1";
    return "/api/files/" + encodeURIComponent(fileId) + q;
  }

  function docIcon() {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "22");
    svg.setAttribute("height", "22");
    const path = document.createElementNS(ns, "path");
    path.setAttribute("fill", "none");
    path.setAttribute("stroke", "currentColor");
    path.setAttribute("stroke-width", "2");
    path.setAttribute("stroke-linecap", "round");
    path.setAttribute("stroke-linejoin", "round");
    path.setAttribute("d", "M12 4v11m-5-5l5 5 5-5M5 20h14");
    svg.append(path);
    return el("span", { class: "doc-icon", "aria-hidden": "true" }, svg);
  }

  function renderMessage(m) {
    const wrap = el("div", { class: "msg " + (isOut(m) ? "out" : "in"), "data-message-id": m.message_id });
    const bubble = el("div", { class: "bubble" });
    if (Array.isArray(m.photo) && m.photo.length) {
      const big = m.photo.reduce((a, b) => ((a.width || 0) * (a.height || 0) >= (b.width || 0) * (b.height || 0) ? a : b));
      const img = el("img", { class: "photo", src: fileUrl(big.file_id), alt: m.caption || "photo", loading: "lazy" });
      if (big.width && big.height) { img.width = big.width; img.height = big.height; }
      img.addEventListener("load", () => scrollDownIfNear(true));
      bubble.classList.add("has-photo");
      if (!m.caption) bubble.classList.add("photo-only");
      bubble.append(el("a", { class: "photo-link", href: fileUrl(big.file_id), target: "_blank", rel: "noopener" }, img));
    }
    const doc = m.document || m.audio || m.video || m.voice || m.animation || m.video_note || m.sticker;
    if (doc && !m.photo) {
      const name = doc.file_name || (m.sticker ? "sticker" : "file");
      bubble.append(
        el("a", { class: "doc", href: fileUrl(doc.file_id, name, true), download: name },
          docIcon(),
          el("span", null,
            el("div", { class: "doc-name", text: name }),
            el("div", { class: "doc-size", text: formatSize(doc.file_size) }))));
    }
    const text = m.text !== undefined ? m.text : m.caption;
    const ents = m.text !== undefined ? m.entities : m.caption_entities;
    if (text) bubble.append(el("span", { class: "text" }, renderEntities(text, ents)));
    if (!text && !doc && !(m.photo && m.photo.length)) {
      bubble.append(el("span", { class: "text", text: m.contact ? "\u260E " + (m.contact.phone_number || "") : "\u2026" }));
    }
    bubble.append(el("span", { class: "meta" },
      m.edit_date ? el("span", { class: "edited", text: t("edited") }) : null,
      formatTime(m.edit_date || m.date)));
    wrap.append(bubble);
    const markup = m.reply_markup;
    if (markup && Array.isArray(markup.inline_keyboard) && markup.inline_keyboard.length) {
      const kb = el("div", { class: "ikb" });
      for (const row of markup.inline_keyboard) {
        const r = el("div", { class: "ikb-row" });
        for (const b of row) {
          if (b.url) {
            const href = safeUrl(b.url);
            r.append(el("a", { href: href || "#", target: "_blank", rel: "noopener noreferrer", text: b.text }));
          } else {
            const btn = el("button", { type: "button", text: b.text, "data-callback": b.callback_data || "" });
            btn.addEventListener("click", () => press(m.message_id, b, btn));
            r.append(btn);
          }
        }
        kb.append(r);
      }
      wrap.append(kb);
    }
    return wrap;
  }

  function nearBottom() {
    return list.scrollHeight - list.scrollTop - list.clientHeight < 120;
  }
  function scrollDown() { list.scrollTop = list.scrollHeight; }
  function scrollDownIfNear(force) { if (force || nearBottom()) scrollDown(); }

  function upsertMessage(m) {
    const empty = list.querySelector(".empty-chat");
    if (empty) empty.remove();
    const stick = nearBottom();
    const node = renderMessage(m);
    const old = list.querySelector('.msg[data-message-id="' + m.message_id + '"]');
    if (old) {
      old.replaceWith(node);
    } else {
      // Keep message-id order even if an SSE event overtakes the transcript.
      let after = null;
      for (const other of list.querySelectorAll(".msg")) {
        if (Number(other.dataset.messageId) < m.message_id) after = other;
      }
      if (after) after.after(node);
      else list.prepend(node);
      if (stick || isOut(m)) scrollDown();
      return;
    }
    if (stick) scrollDown();
  }

  function removeMessage(id) {
    const old = list.querySelector('.msg[data-message-id="' + id + '"]');
    if (old) old.remove();
  }

  function showEmpty() {
    if (!list.querySelector(".msg")) list.append(el("div", { class: "empty-chat", text: t("empty") }));
  }

  // ------------------------------------------------------ reply keyboard
  function setReplyKeyboard(kb) {
    const next = kb && Array.isArray(kb.keyboard) ? kb : null;
    // The same keyboard again (the chat's current one rides along with every bot message) keeps
    // its shown/hidden state, as in Telegram; a new one is shown.
    if (JSON.stringify(next) === JSON.stringify(replyKeyboard)) return;
    replyKeyboard = next;
    replyKbHidden = false;
    input.placeholder = (replyKeyboard && replyKeyboard.input_field_placeholder) || t("placeholder");
    renderReplyKeyboard();
  }
  function renderReplyKeyboard() {
    replyKb.textContent = "";
    $("#kb-toggle").hidden = !replyKeyboard;
    if (!replyKeyboard || replyKbHidden) { replyKb.hidden = true; return; }
    for (const row of replyKeyboard.keyboard) {
      const r = el("div", { class: "row" });
      for (const b of row) {
        const label = typeof b === "string" ? b : b.text;
        r.append(el("button", { type: "button", text: label, onclick: () => {
          if (replyKeyboard && replyKeyboard.one_time_keyboard) { replyKbHidden = true; renderReplyKeyboard(); }
          sendText(label);
        } }));
      }
      replyKb.append(r);
    }
    replyKb.hidden = false;
  }
  $("#kb-toggle").addEventListener("click", () => { replyKbHidden = !replyKbHidden; renderReplyKeyboard(); });

  // keyboard state carried by a bot message (if the bridge did not send it separately)
  function keyboardFromMessage(m) {
    const rm = m && m.reply_markup;
    if (!rm || isOut(m)) return undefined;
    if (Array.isArray(rm.keyboard)) return rm;
    if (rm.remove_keyboard) return null;
    return undefined;
  }

  // ------------------------------------------------------------ commands
  function renderCommands() {
    commandsBox.textContent = "";
    const typed = input.value.startsWith("/") && !/\s/.test(input.value) ? input.value.slice(1).toLowerCase() : "";
    const shown = commands.filter((c) => c.command.toLowerCase().startsWith(typed));
    if (!commands.length) {
      commandsBox.append(el("div", { class: "desc no-commands", text: t("no_commands") }));
      return;
    }
    for (const c of shown) {
      commandsBox.append(el("button", { type: "button", onclick: () => {
        commandsBox.hidden = true;
        input.value = "";
        autosize();
        sendText("/" + c.command);
      } }, el("span", { class: "cmd", text: "/" + c.command }), el("span", { class: "desc", text: c.description })));
    }
  }
  $("#menu-btn").addEventListener("click", async () => {
    if (!commandsBox.hidden) { commandsBox.hidden = true; return; }
    await loadCommands(); // the bot may have changed this person's menu (a new role)
    renderCommands();
    commandsBox.hidden = false;
  });
  async function loadCommands() {
    if (!current) return;
    try {
      const data = await api("GET", "/api/chats/" + current.user_id + "/commands");
      commands = data.commands || [];
    } catch (_) { commands = []; }
    if (!commandsBox.hidden) renderCommands();
  }

  // ------------------------------------------------------------- actions
  async function sendText(text) {
    if (!current || !text.trim()) return;
    commandsBox.hidden = true;
    try {
      await api("POST", "/api/chats/" + current.user_id + "/text", { text });
    } catch (err) {
      showToast(t("error") + err.message, true);
    }
    if (text.startsWith("/")) setTimeout(loadCommands, 800);
  }

  async function press(messageId, button, node) {
    if (!current) return;
    node.classList.add("busy");
    try {
      const data = await api("POST", "/api/chats/" + current.user_id + "/press", {
        message_id: messageId, data: button.callback_data, text: button.text,
      });
      const answer = data && data.answer;
      if (answer && answer.text) showToast(answer.text, answer.show_alert);
    } catch (err) {
      showToast(t("error") + err.message, true);
    } finally {
      node.classList.remove("busy");
    }
  }

  const isPhoto = (file) => file.type.startsWith("image/") && !/\.(tiff?|svg)$/i.test(file.name);

  async function upload(files) {
    if (!current || !files.length) return;
    const form = new FormData();
    for (const file of files.slice(0, 10)) form.append("file", file, file.name);
    const caption = input.value.trim();
    if (caption && files.length === 1) form.append("caption", caption);
    form.append("as_photo", files.every(isPhoto) ? "1" : "0");
    showToast(t("uploading"));
    try {
      await api("POST", "/api/chats/" + current.user_id + "/upload", form);
      toast.hidden = true;
      if (caption && files.length === 1) { input.value = ""; autosize(); }
    } catch (err) {
      showToast(t("error") + err.message, true);
    }
  }

  $("#composer").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = input.value;
    if (!text.trim()) return;
    input.value = "";
    autosize();
    sendText(text);
  });
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      $("#composer").requestSubmit();
    }
  });
  function autosize() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 120) + "px";
  }
  input.addEventListener("input", () => {
    autosize();
    if (input.value === "/") {
      renderCommands();
      commandsBox.hidden = false;
      loadCommands().then(renderCommands);
    } else if (input.value.startsWith("/") && !/\s/.test(input.value)) {
      renderCommands();
    } else {
      commandsBox.hidden = true;
    }
  });
  fileInput.addEventListener("change", () => {
    const files = Array.from(fileInput.files || []);
    upload(files).finally(() => { fileInput.value = ""; });
  });

  // -------------------------------------------------------- chat loading
  let typingTimer = null;
  function showTyping(action) {
    const sub = $("#chat-as");
    clearTimeout(typingTimer);
    if (!current) return;
    const base = t("as") + current.name + " · " + roleLabel(current);
    if (!action) { sub.textContent = base; sub.classList.remove("typing"); return; }
    sub.textContent = action === "typing" ? t("typing") : t("sending");
    sub.classList.add("typing");
    typingTimer = setTimeout(() => showTyping(null), 5000);
  }

  function setConn(live) {
    const c = $("#conn");
    c.classList.toggle("live", live);
    c.title = live ? "live" : "offline";
  }

  async function loadTranscript() {
    const token = ++loadToken;
    const persona = current;
    const data = await api("GET", "/api/chats/" + persona.user_id + "/messages");
    if (token !== loadToken || persona !== current) return;
    list.textContent = "";
    replyKeyboard = null;
    let kb = null;
    for (const m of data.messages || []) {
      upsertMessage(m);
      const k = keyboardFromMessage(m);
      if (k !== undefined) kb = k;
    }
    setReplyKeyboard(data.reply_keyboard !== undefined ? data.reply_keyboard : kb);
    showEmpty();
    scrollDown();
  }

  function openStream() {
    if (source) source.close();
    const persona = current;
    source = new EventSource("/api/chats/" + persona.user_id + "/events");
    let dropped = false;
    source.onopen = () => {
      setConn(true);
      if (dropped) { dropped = false; loadTranscript().catch(() => {}); }
    };
    source.onerror = () => { setConn(false); dropped = true; };
    source.onmessage = (ev) => {
      if (persona !== current) return;
      let e;
      try { e = JSON.parse(ev.data); } catch (_) { return; }
      handleEvent(e);
    };
  }

  function handleEvent(e) {
    if (e.kind === "deleted") { removeMessage(e.message_id); showEmpty(); return; }
    if (e.kind === "callback_answer") {
      const cb = e.callback || {};
      if (cb.text) showToast(cb.text, cb.show_alert);
      return;
    }
    if (e.kind === "chat_action") { showTyping(e.action); return; }
    if (!e.message) return;
    if (!isOut(e.message)) showTyping(null);
    upsertMessage(e.message);
    if (e.reply_keyboard !== undefined && !isOut(e.message)) setReplyKeyboard(e.reply_keyboard);
    else {
      const k = keyboardFromMessage(e.message);
      if (k !== undefined) setReplyKeyboard(k);
    }
  }

  async function openPersona(p) {
    current = p;
    if (botCounts[String(p.user_id)] !== undefined) seen[String(p.user_id)] = botCounts[String(p.user_id)];
    renderBadges();
    commands = [];
    commandsBox.hidden = true;
    app.classList.remove("show-picker");
    app.classList.add("show-chat");
    for (const node of document.querySelectorAll(".persona")) {
      node.classList.toggle("active", Number(node.dataset.userId) === p.user_id);
    }
    $("#chat-as").textContent = t("as") + p.name + " · " + roleLabel(p);
    list.textContent = "";
    location.hash = "u" + p.user_id;
    openStream();
    try {
      await loadTranscript();
    } catch (err) {
      showToast(t("error") + err.message, true);
    }
    loadCommands();
    if (window.matchMedia("(min-width: 900px)").matches) input.focus();
  }

  function roleLabel(p) { return (lang === "en" && p.role_label_en) || p.role_label; }

  // -------------------------------------------------------------- picker
  function renderPersonas() {
    const ul = $("#personas");
    ul.textContent = "";
    for (const p of personas) {
      const unit = (lang === "en" && p.unit_en) || p.unit;
      const hint = (lang === "en" && p.hint_en) || p.hint;
      const btn = el("button", {
        type: "button", class: "persona role-" + p.role, "data-user-id": p.user_id, "data-role": p.role,
        "data-testid": "persona-" + p.key,
      },
        el("span", { class: "avatar", "aria-hidden": "true", text: initials(p.name) }),
        el("span", { class: "who" },
          el("div", { class: "name", text: p.name }),
          el("div", { class: "role", text: roleLabel(p) }),
          unit ? el("div", { class: "unit", text: unit }) : null,
          hint ? el("div", { class: "hint", text: hint }) : null));
      if (current && current.user_id === p.user_id) btn.classList.add("active");
      btn.addEventListener("click", () => openPersona(p));
      ul.append(el("li", null, btn));
    }
    renderBadges();
  }

  function applyLang() {
    document.documentElement.lang = lang;
    $("#lang-toggle").textContent = lang === "vi" ? "EN" : "VI";
    for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
    for (const node of document.querySelectorAll("[data-i18n-title]")) node.title = t(node.dataset.i18nTitle);
    for (const node of document.querySelectorAll("[data-i18n-placeholder]")) node.placeholder = t(node.dataset.i18nPlaceholder);
    list.dataset.empty = t("pick");
    document.title = t("title");
    renderPersonas();
    if (current) $("#chat-as").textContent = t("as") + current.name + " · " + roleLabel(current);
  }
  $("#lang-toggle").addEventListener("click", () => {
    lang = lang === "vi" ? "en" : "vi";
    localStorage.setItem("cchc-sandbox-lang", lang);
    applyLang();
  });

  $("#back").addEventListener("click", () => {
    app.classList.remove("show-chat");
    app.classList.add("show-picker");
    history.replaceState(null, "", location.pathname);
  });

  $("#reset-demo").addEventListener("click", async () => {
    if (!confirm(t("reset_confirm"))) return;
    const btn = $("#reset-demo");
    btn.disabled = true;
    try {
      await api("POST", "/api/reset");
      showToast(t("reset_done"));
      if (current) { await loadTranscript(); loadCommands(); }
    } catch (err) {
      alert(t("error") + err.message);
    } finally {
      btn.disabled = false;
    }
  });

  // ------------------------------------------------------ unread badges
  // Other people get messages too (a submission notifies the appraisers): count them on the cards.
  const seen = {};
  let botCounts = {};
  async function pollActivity() {
    if (document.hidden) return;
    let data;
    try { data = await api("GET", "/api/activity"); } catch (_) { return; }
    botCounts = data.bot_messages || {};
    // Fewer messages than before: the demo was reset (maybe from another tab): reload the open chat.
    if (current) {
      const uid = String(current.user_id);
      if (botCounts[uid] !== undefined && seen[uid] !== undefined && botCounts[uid] < seen[uid]) {
        loadTranscript().catch(() => {});
      }
    }
    for (const [uid, n] of Object.entries(botCounts)) {
      if (seen[uid] === undefined || n < seen[uid] || (current && String(current.user_id) === uid)) seen[uid] = n;
    }
    renderBadges();
  }
  function renderBadges() {
    for (const node of document.querySelectorAll(".persona")) {
      const uid = node.dataset.userId;
      const unread = (botCounts[uid] || 0) - (seen[uid] || 0);
      let badge = node.querySelector(".badge");
      if (unread > 0) {
        if (!badge) { badge = el("span", { class: "badge" }); node.append(badge); }
        badge.textContent = String(unread);
      } else if (badge) {
        badge.remove();
      }
    }
  }

  async function init() {
    applyLang();
    const data = await api("GET", "/api/info");
    personas = data.personas || [];
    if (data.bot && data.bot.name) $("#bot-name").textContent = data.bot.name;
    renderPersonas();
    await pollActivity();
    setInterval(pollActivity, 3000);
    const m = /^#u(\d+)$/.exec(location.hash);
    const p = m && personas.find((x) => x.user_id === Number(m[1]));
    if (p) openPersona(p);
  }
  init().catch((err) => {
    $("#personas").append(el("li", { class: "note", text: t("error") + err.message }));
  });
})();
