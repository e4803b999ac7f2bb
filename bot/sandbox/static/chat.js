// The sandbox chat page: acts as one person through the control API and draws the chat from its event log.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { userId: null, name: "", seq: 0, generation: 0, nodes: new Map() };

async function api(method, path, body) {
  const options = { method, headers: {} };
  if (body instanceof FormData) options.body = body;
  else if (body) { options.body = JSON.stringify(body); options.headers["Content-Type"] = "application/json"; }
  const response = await fetch(path, options);
  const data = await response.json();
  if (!data.ok) throw new Error(data.description || response.statusText);
  return data;
}

function toast(text) {
  const box = $("toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 2500);
}

function showError(error) { toast("出错:" + error.message); }

function who() { return { user_id: state.userId, first_name: state.name || undefined }; }

function fileLink(fileId) { return "/control/files/" + encodeURIComponent(fileId); }

function renderBody(node, message, direction) {
  node.replaceChildren();
  if (message.photo) {
    const img = document.createElement("img");
    img.src = fileLink(message.photo[message.photo.length - 1].file_id);
    node.append(img);
  }
  if (message.document) {
    const link = document.createElement("a");
    link.href = fileLink(message.document.file_id);
    link.textContent = "📄 " + (message.document.file_name || "文件") + "(" +
      Math.ceil((message.document.file_size || 0) / 1024) + " KB)";
    link.target = "_blank";
    node.append(link, document.createElement("br"));
  }
  if (message.contact) node.append("📱 " + message.contact.phone_number);
  const text = message.text || message.caption;
  if (text) node.append(text);
  const keyboard = (message.reply_markup || {}).inline_keyboard;
  if (direction === "bot" && keyboard && keyboard.length) {
    const box = document.createElement("div");
    box.className = "inline-keyboard";
    for (const row of keyboard) {
      const line = document.createElement("div");
      line.className = "row";
      for (const button of row) {
        const b = document.createElement("button");
        b.type = "button";
        b.textContent = button.text;
        if (button.url) b.onclick = () => window.open(button.url, "_blank");
        else b.onclick = () => api("POST", "/control/callbacks",
          { ...who(), message_id: message.message_id, data: button.callback_data }).catch(showError);
        line.append(b);
      }
      box.append(line);
    }
    node.append(box);
  }
  const meta = document.createElement("div");
  meta.className = "meta";
  meta.textContent = "#" + message.message_id + (message.edit_date ? " · 已编辑" : "");
  node.append(meta);
}

function apply(event) {
  const list = $("messages");
  if (event.kind === "message") {
    const node = document.createElement("div");
    node.className = "msg " + event.direction;
    renderBody(node, event.message, event.direction);
    state.nodes.set(event.message.message_id, node);
    list.append(node);
  } else if (event.kind === "edit") {
    const node = state.nodes.get(event.message.message_id);
    if (node) renderBody(node, event.message, "bot");
  } else if (event.kind === "delete") {
    const node = state.nodes.get(event.message_id);
    if (node) node.remove();
  } else if (event.kind === "callback_answer") {
    if (event.text) { if (event.show_alert) alert(event.text); else toast(event.text); }
  } else if (event.kind === "chat_action") {
    $("status").textContent = "机器人正在" + (event.action === "typing" ? "输入" : "处理") + "…";
  }
}

function renderReplyKeyboard(markup) {
  const box = $("reply-keyboard");
  box.replaceChildren();
  box.hidden = !markup;
  if (!markup) return;
  for (const row of markup.keyboard) {
    const line = document.createElement("div");
    line.className = "row";
    for (const button of row) {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = button.text;
      b.onclick = () => {
        if (button.request_contact) {
          const phone = prompt("分享手机号(模拟 Telegram 的分享联系人)", "+86 138 0013 8000");
          if (phone) api("POST", "/control/contacts", { ...who(), phone_number: phone.replace(/\s+/g, "") })
            .catch(showError);
        } else {
          api("POST", "/control/messages", { ...who(), text: button.text }).catch(showError);
        }
      };
      line.append(b);
    }
    box.append(line);
  }
}

async function follow(generation) {
  // Long-poll the chat's event log; a new user choice bumps the generation and ends this loop.
  while (generation === state.generation) {
    try {
      const data = await api("GET", `/control/chats/${state.userId}/events?after=${state.seq}&timeout=25`);
      if (generation !== state.generation) return;
      for (const event of data.events) { apply(event); state.seq = event.seq; }
      if (data.events.length) {
        $("status").textContent = "用户 " + state.userId + " · 已连接";
        $("messages").scrollTop = $("messages").scrollHeight;
        const chat = await api("GET", `/control/chats/${state.userId}`).catch(() => null);
        renderReplyKeyboard(chat && chat.reply_keyboard);
      }
    } catch (error) {
      $("status").textContent = "连接中断,重试中…";
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

function enter(userId, name) {
  state.userId = Number(userId);
  state.name = name;
  state.seq = 0;
  state.nodes.clear();
  state.generation += 1;
  localStorage.setItem("sandbox-user", JSON.stringify({ userId: state.userId, name }));
  $("messages").replaceChildren();
  renderReplyKeyboard(null);
  $("status").textContent = "用户 " + state.userId + " · 发送 /start 开始";
  follow(state.generation);
}

$("who").onsubmit = (e) => { e.preventDefault(); enter($("user-id").value, $("user-name").value.trim()); };

$("compose").onsubmit = async (e) => {
  e.preventDefault();
  if (!state.userId) return toast("请先填写用户 ID 并进入聊天");
  const text = $("text").value;
  if (!text.trim()) return;
  $("text").value = "";
  await api("POST", "/control/messages", { ...who(), text }).catch(showError);
};

$("file").onchange = async () => {
  const file = $("file").files[0];
  $("file").value = "";
  if (!file || !state.userId) return;
  const form = new FormData();
  form.append("user_id", String(state.userId));
  if (state.name) form.append("first_name", state.name);
  form.append("file", file, file.name);
  const path = $("as-photo").checked ? "/control/photos" : "/control/documents";
  await api("POST", path, form).catch(showError);
};

(function start() {
  const saved = JSON.parse(localStorage.getItem("sandbox-user") || "null");
  const userId = saved ? saved.userId : 10000 + Math.floor(Math.random() * 90000);
  const name = saved ? saved.name : "测试用户";
  $("user-id").value = userId;
  $("user-name").value = name;
  enter(userId, name);
})();
