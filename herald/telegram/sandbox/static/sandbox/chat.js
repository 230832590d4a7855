// The sandbox chat: talk to any sandbox bot as a user, and watch channels and groups fill.
// Plain browser JavaScript, no build step; it only uses the JSON control API under /sandbox/api/.
"use strict";

const API = "/sandbox/api";
const POLL_MS = 1000;
const $ = (id) => document.getElementById(id);

const state = {
  bots: [],
  users: [],
  chats: [],
  bot: localStorage.getItem("sandbox.bot") || "",
  user: localStorage.getItem("sandbox.user") || "",
  chat: null, // null: the private chat of the selected user; otherwise a channel or group object
  replyKeyboard: null, // rows of buttons from the bot's latest reply keyboard
  lastRendered: "",
};

async function api(path, options = {}) {
  const response = await fetch(API + path, options);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.message || body.description || `HTTP ${response.status}`);
  return body;
}

function postJson(path, payload) {
  return api(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(payload),
  });
}

function showStatus(message) {
  $("status").textContent = message || "";
}

function option(value, label, selected) {
  const node = document.createElement("option");
  node.value = value;
  node.textContent = label;
  node.selected = selected;
  return node;
}

// --- lists of bots, users and chats ------------------------------------------------------------

async function loadBots() {
  state.bots = await api("/bots");
  if (!state.bots.some((b) => b.username === state.bot)) state.bot = state.bots.length ? state.bots[0].username : "";
  $("bot-select").replaceChildren(...state.bots.map((b) => option(b.username, `@${b.username}`, b.username === state.bot)));
  $("no-bots").hidden = state.bots.length > 0;
  renderCommands();
}

async function loadUsers() {
  state.users = await api("/users");
  if (!state.users.some((u) => String(u.id) === state.user)) state.user = state.users.length ? String(state.users[0].id) : "";
  $("user-select").replaceChildren(
    ...state.users.map((u) => option(u.id, u.username ? `${u.first_name} (@${u.username})` : u.first_name, String(u.id) === state.user)),
  );
}

async function loadChats() {
  const [channels, groups] = await Promise.all([api("/channels"), api("/groups")]);
  state.chats = [
    ...channels.map((c) => ({ ...c, type: "channel" })),
    ...groups.map((g) => ({ ...g, type: "group" })),
  ];
  renderChatList();
}

function renderChatList() {
  const items = [];
  const privateItem = document.createElement("li");
  privateItem.className = "chat-item" + (state.chat === null ? " active" : "");
  privateItem.dataset.chatId = "private";
  privateItem.textContent = "Private chat with the bot";
  privateItem.addEventListener("click", () => selectChat(null));
  items.push(privateItem);
  for (const chat of state.chats) {
    const item = document.createElement("li");
    item.className = "chat-item" + (state.chat && state.chat.id === chat.id ? " active" : "");
    item.dataset.chatId = String(chat.id);
    item.textContent = `${chat.type === "channel" ? "📢" : "👥"} ${chat.title}`;
    const admins = document.createElement("small");
    admins.textContent = chat.admins.length ? chat.admins.map((a) => "@" + a).join(", ") : "no bots";
    item.appendChild(admins);
    item.addEventListener("click", () => selectChat(chat));
    items.push(item);
  }
  $("chat-list").replaceChildren(...items);
}

function chip(label, title, text) {
  const node = document.createElement("button");
  node.type = "button";
  node.textContent = label;
  node.title = title;
  node.addEventListener("click", () => send(text));
  return node;
}

// The bot's commands, or the reply keyboard its latest message asked for (a keyboard replaces them
// until a later message removes it).
function renderCommands() {
  const bot = state.bots.find((b) => b.username === state.bot);
  const commands = (bot && bot.commands) || [];
  if (state.replyKeyboard) {
    $("commands").replaceChildren(
      ...state.replyKeyboard.flat().map((button) => {
        const text = typeof button === "string" ? button : button.text;
        const node = chip(text, "reply keyboard", text);
        node.className = "reply-button";
        return node;
      }),
    );
    return;
  }
  $("commands").replaceChildren(...commands.map((c) => chip("/" + c.command, c.description, "/" + c.command)));
}

function replyKeyboardOf(messages) {
  if (state.chat) return null;
  for (let i = messages.length - 1; i >= 0; i--) {
    const markup = messages[i].from_bot ? messages[i].reply_markup : null;
    if (!markup) continue;
    if (markup.keyboard) return markup.keyboard;
    if (markup.remove_keyboard) return null;
  }
  return null;
}

function selectChat(chat) {
  state.chat = chat;
  state.lastRendered = "";
  renderChatList();
  refreshTitle();
  poll();
}

function refreshTitle() {
  const composer = $("composer");
  const user = state.users.find((u) => String(u.id) === state.user);
  if (state.chat) {
    $("chat-title").textContent = `${state.chat.type === "channel" ? "Channel" : "Group"}: ${state.chat.title}`;
  } else if (state.bot && user) {
    $("chat-title").textContent = `@${state.bot} — chatting as ${user.first_name}`;
  } else {
    $("chat-title").textContent = "Pick a bot and a user";
  }
  const canWrite = state.bot && state.user && !(state.chat && state.chat.type === "channel");
  for (const field of composer.elements) field.disabled = !canWrite;
}

// --- messages ------------------------------------------------------------------------------

const ENTITY_TAGS = {
  bold: "strong", italic: "em", underline: "u", strikethrough: "s", code: "code", pre: "pre",
  spoiler: "span", text_link: "a", url: "a", bot_command: "span",
};

// Entity offsets count UTF-16 units, which is what JavaScript strings index by.
function formatted(text, entities) {
  const fragment = document.createDocumentFragment();
  const cuts = new Set([0, text.length]);
  for (const e of entities || []) {
    cuts.add(e.offset);
    cuts.add(e.offset + e.length);
  }
  const points = [...cuts].sort((a, b) => a - b);
  for (let i = 0; i < points.length - 1; i++) {
    const [start, end] = [points[i], points[i + 1]];
    let node = document.createTextNode(text.slice(start, end));
    for (const e of entities || []) {
      const tag = ENTITY_TAGS[e.type];
      if (!tag || e.offset > start || e.offset + e.length < end) continue;
      const wrapper = document.createElement(tag);
      if (tag === "a") {
        wrapper.href = e.url || text.slice(e.offset, e.offset + e.length);
        wrapper.target = "_blank";
        wrapper.rel = "noopener";
      }
      if (e.type === "spoiler") wrapper.style.background = "#d4d4d8";
      wrapper.appendChild(node);
      node = wrapper;
    }
    fragment.appendChild(node);
  }
  return fragment;
}

function keyboardFor(message) {
  const rows = (message.reply_markup && message.reply_markup.inline_keyboard) || [];
  if (!rows.length) return null;
  const keyboard = document.createElement("div");
  keyboard.className = "keyboard";
  for (const row of rows) {
    const line = document.createElement("div");
    line.className = "keyboard-row";
    for (const button of row) {
      let node;
      if (button.url) {
        node = document.createElement("a");
        node.href = button.url;
        node.target = "_blank";
        node.rel = "noopener";
        node.className = "inline-button";
      } else {
        node = document.createElement("button");
        node.type = "button";
        node.className = "inline-button";
        node.dataset.callbackData = button.callback_data || "";
        node.disabled = !button.callback_data || state.chat !== null || message.deleted;
        node.addEventListener("click", () => press(message.message_id, button.callback_data));
      }
      node.textContent = button.text;
      line.appendChild(node);
    }
    keyboard.appendChild(line);
  }
  return keyboard;
}

function renderMessage(message) {
  const item = document.createElement("li");
  item.className = "message " + (message.from_bot ? "from-bot" : "from-user") + (message.deleted ? " deleted" : "");
  item.dataset.messageId = message.message_id;
  if (state.chat && message.from_bot) {
    const sender = document.createElement("span");
    sender.className = "sender";
    sender.textContent = "@" + message.bot;
    item.appendChild(sender);
  }
  if (message.media) {
    if (message.media.type === "photo") {
      const image = document.createElement("img");
      image.src = message.media.url;
      image.alt = message.caption || "photo";
      item.appendChild(image);
    } else {
      const link = document.createElement("a");
      link.href = message.media.url;
      link.textContent = `📄 ${message.media.file_name || message.media.type}`;
      item.appendChild(link);
      item.appendChild(document.createElement("br"));
    }
  }
  const body = document.createElement("span");
  body.className = "text";
  body.appendChild(formatted(message.text || message.caption || "", message.entities));
  item.appendChild(body);
  const keyboard = keyboardFor(message);
  if (keyboard) item.appendChild(keyboard);
  const meta = document.createElement("span");
  meta.className = "meta";
  const time = new Date(message.date * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  meta.textContent = (message.deleted ? "deleted · " : message.edited ? "edited · " : "") + time;
  item.appendChild(meta);
  return item;
}

function currentChatId() {
  return state.chat ? state.chat.id : state.user;
}

async function poll() {
  const chatId = currentChatId();
  if (!chatId || (!state.chat && !state.bot)) {
    $("messages").replaceChildren();
    return;
  }
  const query = state.bot ? `?bot=${encodeURIComponent(state.bot)}` : "";
  try {
    const messages = await api(`/chats/${chatId}/messages${query}`);
    const snapshot = JSON.stringify(messages);
    if (snapshot === state.lastRendered) return;
    state.lastRendered = snapshot;
    state.replyKeyboard = replyKeyboardOf(messages);
    renderCommands();
    const list = $("messages");
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    if (!messages.length) {
      const empty = document.createElement("li");
      empty.className = "empty";
      empty.textContent = state.chat ? "Nothing posted yet." : "No messages yet. Say /start.";
      list.replaceChildren(empty);
    } else {
      list.replaceChildren(...messages.map(renderMessage));
    }
    if (atBottom) list.scrollTop = list.scrollHeight;
  } catch (error) {
    showStatus(error.message);
  }
}

// --- actions -------------------------------------------------------------------------------

async function send(text) {
  const photo = $("composer-photo").files[0];
  const chat = state.chat ? { chat: state.chat.id } : {};
  try {
    if (photo) {
      const form = new FormData();
      form.append("bot", state.bot);
      form.append("from", state.user);
      if (state.chat) form.append("chat", state.chat.id);
      form.append("caption", text);
      form.append("photo", photo);
      await api("/send", { method: "POST", body: form });
      $("composer-photo").value = "";
    } else {
      await postJson("/send", { bot: state.bot, from: Number(state.user), text, ...chat });
    }
    $("composer-text").value = "";
    showStatus("");
    poll();
  } catch (error) {
    showStatus(error.message);
  }
}

async function press(messageId, data) {
  try {
    const pressed = await postJson("/press", { bot: state.bot, from: Number(state.user), message_id: messageId, data });
    showStatus("");
    showAnswer(pressed.callback_query_id);
  } catch (error) {
    showStatus(error.message);
  }
}

// Telegram shows the bot's answerCallbackQuery text as a toast (or an alert); so does this page.
async function showAnswer(queryId, tries = 15) {
  const answer = await api(`/callbacks/${encodeURIComponent(queryId)}`).catch(() => null);
  if (answer && answer.answered) {
    if (answer.text && answer.show_alert) window.alert(answer.text);
    else if (answer.text) toast(answer.text);
    return;
  }
  if (tries > 0) setTimeout(() => showAnswer(queryId, tries - 1), 300);
}

function toast(text) {
  const node = $("toast");
  node.textContent = text;
  node.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { node.hidden = true; }, 3000);
}

function wire() {
  $("bot-select").addEventListener("change", (event) => {
    state.bot = event.target.value;
    localStorage.setItem("sandbox.bot", state.bot);
    state.lastRendered = "";
    renderCommands();
    refreshTitle();
    poll();
  });
  $("user-select").addEventListener("change", (event) => {
    state.user = event.target.value;
    localStorage.setItem("sandbox.user", state.user);
    state.lastRendered = "";
    refreshTitle();
    poll();
  });
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("composer-text").value;
    if (text.trim() || $("composer-photo").files.length) send(text);
  });
  $("composer-photo").addEventListener("change", () => {
    const file = $("composer-photo").files[0];
    if (file) showStatus(`Photo ${file.name} attached: add a caption and press Send.`);
  });
  $("new-user").addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = $("new-user-name").value.trim();
    if (!name) return;
    try {
      const made = await postJson("/users", { first_name: name });
      state.user = String(made.id);
      localStorage.setItem("sandbox.user", state.user);
      $("new-user-name").value = "";
      await loadUsers();
      selectChat(null);
    } catch (error) {
      showStatus(error.message);
    }
  });
  $("new-bot").addEventListener("submit", async (event) => {
    event.preventDefault();
    const username = $("new-bot-username").value.trim();
    if (!username) return;
    try {
      await postJson("/bots", { username });
      state.bot = username;
      localStorage.setItem("sandbox.bot", state.bot);
      $("new-bot-username").value = "";
      await loadBots();
      refreshTitle();
    } catch (error) {
      showStatus(error.message);
    }
  });
}

async function refreshLists() {
  try {
    await Promise.all([loadBots(), loadUsers(), loadChats()]);
    refreshTitle();
  } catch (error) {
    showStatus(error.message);
  }
}

async function start() {
  wire();
  await refreshLists();
  poll();
  setInterval(poll, POLL_MS);
  setInterval(refreshLists, 5 * POLL_MS);
}

start();
