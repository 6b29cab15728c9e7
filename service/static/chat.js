/* PolicyQA chat page: plain JavaScript, no build step, no external assets.
 *
 * Everything that comes from the server (answers, passages, document text, titles) is inserted with
 * textContent / createTextNode, never as HTML: the documents are arbitrary uploaded files.
 */
(function () {
  'use strict';

  var params = new URLSearchParams(location.search);
  var embed = /\/embed\/?$/.test(location.pathname) || params.get('embed') === '1';
  // API paths resolve against the folder above static/, so a reverse-proxy prefix keeps working
  var scriptSrc = document.currentScript ? document.currentScript.src : location.href;
  var base = new URL('../', scriptSrc);
  var KEY_STORE = 'policyqa.key';

  var state = {
    key: params.get('key') || storedKey(),
    conversationId: null,
    busy: false,
    controller: null,
    documents: [],
    docCache: new Map(),
    activeCite: null
  };

  var $ = function (id) { return document.getElementById(id); };
  var ui = {
    app: $('app'), title: $('title'), log: $('log'), chat: $('chat'), welcome: $('welcome'),
    form: $('ask'), question: $('question'), send: $('send'),
    newBtn: $('btn-new'), filterBtn: $('btn-filter'), filterBadge: $('filter-badge'), filters: $('filters'),
    fDoc: $('f-doc'), fFrom: $('f-from'), fTo: $('f-to'), fClear: $('f-clear'), filterMsg: $('filter-msg'),
    keyRow: $('key-row'), fKey: $('f-key'),
    reader: $('reader'), readerTitle: $('reader-title'), readerMeta: $('reader-meta'), readerBody: $('reader-body'),
    readerClose: $('reader-close')
  };

  /* ---------- small DOM helpers ---------- */

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function api(path) { return new URL(path, base).toString(); }

  function storedKey() {
    try { return localStorage.getItem(KEY_STORE) || ''; } catch (e) { return ''; }  // storage can be blocked in iframes
  }

  function headers(extra) {
    var h = { 'Content-Type': 'application/json' };
    if (state.key) h['X-API-Key'] = state.key;
    return Object.assign(h, extra || {});
  }

  function docLabel(item) {
    var parts = [];
    if (item.date) parts.push(item.date);
    if (item.section) parts.push(item.section);
    return parts.join(' · ');
  }

  async function errorText(resp) {
    var body = null;
    try { body = await resp.json(); } catch (e) { /* not JSON */ }
    if (resp.status === 401 || resp.status === 403) {
      showKeyRow();
      return '需要有效的访问密钥（' + resp.status + '）。请在“筛选”中填写管理员分配的密钥后重试。';
    }
    if (resp.status === 429) return '请求过于频繁，请稍后再试。';
    if (resp.status === 503) return '服务尚未就绪：' + ((body && body.detail) || '索引未加载');
    var detail = body && (body.detail || body.error);
    if (detail && typeof detail !== 'string') detail = JSON.stringify(detail);
    return '请求失败（HTTP ' + resp.status + '）' + (detail ? '：' + detail : '');
  }

  /* ---------- page set-up ---------- */

  function applyLook() {
    var title = params.get('title');
    if (title) setTitle(title);
    var color = params.get('color');
    // only plain colour values reach the stylesheet
    if (color && /^(#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,20})$/.test(color)) {
      document.documentElement.style.setProperty('--accent', color);
      var soft = 'color-mix(in srgb, ' + color + ' 12%, white)';
      if (window.CSS && CSS.supports('color', soft)) document.documentElement.style.setProperty('--accent-soft', soft);
    }
    if (embed) ui.app.classList.add('embed');
  }

  function setTitle(text) {
    ui.title.textContent = text;
    document.title = text;
  }

  async function loadConfig() {
    try {
      var resp = await fetch(api('api/config'), { headers: headers() });
      if (!resp.ok) return;
      var cfg = await resp.json();
      if (cfg.title && !params.get('title')) setTitle(cfg.title);
      if (cfg.auth_required && !state.key) showKeyRow();
    } catch (e) { /* the page works without it */ }
  }

  async function loadDocuments() {
    try {
      var resp = await fetch(api('api/documents'), { headers: headers() });
      if (!resp.ok) return;
      state.documents = await resp.json();
    } catch (e) { return; }
    while (ui.fDoc.options.length > 1) ui.fDoc.remove(1);
    state.documents
      .slice()
      .sort(function (a, b) { return String(b.date || '').localeCompare(String(a.date || '')); })
      .forEach(function (doc) {
        var label = (doc.title || doc.source) + (doc.date ? '（' + doc.date + '）' : '');
        var option = el('option', null, label);
        option.value = doc.source;
        ui.fDoc.appendChild(option);
      });
  }

  function showKeyRow() {
    ui.keyRow.hidden = false;
    ui.filters.hidden = false;
    ui.filterBtn.setAttribute('aria-expanded', 'true');
  }

  /* ---------- filters ---------- */

  function currentFilters() {
    var filters = {};
    if (ui.fDoc.value) filters.sources = [ui.fDoc.value];
    if (ui.fFrom.value) filters.date_from = ui.fFrom.value;
    if (ui.fTo.value) filters.date_to = ui.fTo.value;
    return Object.keys(filters).length ? filters : null;
  }

  function filtersChanged() {
    var bad = ui.fFrom.value && ui.fTo.value && ui.fFrom.value > ui.fTo.value;
    ui.filterMsg.textContent = bad ? '起始日期晚于截止日期' : (currentFilters() ? '提问时只在所选范围内查找' : '');
    ui.filterBadge.hidden = !currentFilters();
    return !bad;
  }

  /* ---------- server-sent events over fetch (EventSource cannot POST) ---------- */

  async function readEvents(body, onEvent) {
    var reader = body.getReader();
    var decoder = new TextDecoder();
    var buffer = '';
    var event = 'message';
    var data = [];
    function dispatch() {
      if (data.length) onEvent(event, data.join('\n'));
      event = 'message';
      data = [];
    }
    for (;;) {
      var chunk = await reader.read();
      if (chunk.done) break;
      buffer += decoder.decode(chunk.value, { stream: true });
      var newline;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        var line = buffer.slice(0, newline).replace(/\r$/, '');
        buffer = buffer.slice(newline + 1);
        if (line === '') { dispatch(); continue; }
        if (line.charAt(0) === ':') continue;  // comment / keep-alive ping
        var colon = line.indexOf(':');
        var field = colon < 0 ? line : line.slice(0, colon);
        var value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
      }
    }
    buffer += decoder.decode();
    if (buffer.replace(/\r$/, '').startsWith('data:')) data.push(buffer.replace(/\r$/, '').slice(5).replace(/^ /, ''));
    dispatch();
  }

  /* ---------- one question and its answer ---------- */

  function Turn(question) {
    this.answer = null;
    this.text = '';
    this.deltas = 0;
    this.root = el('section', 'turn');
    this.root.dataset.state = 'waiting';
    var user = el('div', 'msg user');
    user.appendChild(el('div', 'bubble', question));
    this.bot = el('div', 'msg bot');
    this.bubble = el('div', 'bubble');
    this.notice = el('div', 'notice', '未找到可靠依据，无法回答');
    this.notice.hidden = true;
    this.textBox = el('div', 'answer-text');
    this.status = el('div', 'status', '正在检索相关文件');
    this.bubble.append(this.notice, this.textBox, this.status);
    this.bot.appendChild(this.bubble);
    this.root.append(user, this.bot);
    this.textBox.addEventListener('click', this.onCiteClick.bind(this));
  }

  Turn.prototype.onCiteClick = function (ev) {
    var button = ev.target.closest('.cite');
    if (!button || !this.answer) return;
    var citation = this.answer.citations.find(function (c) { return String(c.n) === button.dataset.n; });
    if (citation) openPassage(citation, button, this);
  };

  Turn.prototype.renderText = function (text) {
    // [n] markers become buttons; every other piece of the answer is a text node
    var box = this.textBox;
    box.textContent = '';
    text.split(/(\[\d+\])/).forEach(function (part) {
      var m = /^\[(\d+)\]$/.exec(part);
      if (m) {
        var b = el('button', 'cite', part);
        b.type = 'button';
        b.dataset.n = m[1];
        b.title = '查看出处 ' + m[1];
        box.appendChild(b);
      } else if (part) {
        box.appendChild(document.createTextNode(part));
      }
    });
  };

  Turn.prototype.sources = function (data) {
    if (data && data.conversation_id) state.conversationId = data.conversation_id;
    this.root.dataset.state = 'streaming';
    this.status.textContent = '正在生成回答';
  };

  Turn.prototype.delta = function (piece) {
    this.deltas += 1;
    this.root.dataset.deltas = String(this.deltas);
    this.text += piece;
    this.renderText(this.text);
    this.status.hidden = true;
    scrollChat();
  };

  Turn.prototype.finish = function (answer) {
    this.answer = answer;
    if (answer.conversation_id) state.conversationId = answer.conversation_id;
    this.status.remove();
    this.renderText(answer.answer || '');
    if (answer.answerable) {
      this.renderCitations(answer.citations || []);
    } else {
      this.bot.classList.add('refused');
      this.notice.hidden = false;
      this.renderRelated(answer.retrieved || []);
    }
    this.renderActions();
    this.root.dataset.state = 'done';
    this.root.dataset.answerable = String(!!answer.answerable);
    // a finished answer is read from its start: bring the question to the top of the chat
    ui.chat.scrollTop = Math.max(0, this.root.offsetTop - 8);
  };

  Turn.prototype.fail = function (message) {
    this.status.remove();
    this.bubble.appendChild(el('div', 'error', message));
    this.root.dataset.state = 'error';
  };

  Turn.prototype.renderCitations = function (citations) {
    if (!citations.length) return;
    var box = el('div', 'sources');
    box.appendChild(el('h3', null, '来源'));
    var list = el('ol');
    var turn = this;
    citations.forEach(function (c) {
      var item = el('li');
      var b = el('button', 'source');
      b.type = 'button';
      b.dataset.n = String(c.n);
      var head = el('div');
      head.append(el('span', 'num', '[' + c.n + ']'), el('span', 'doc-title', c.title || c.source));
      b.appendChild(head);
      var meta = docLabel(c);
      if (meta) b.appendChild(el('div', 'meta', meta));
      b.appendChild(el('div', 'snippet', c.quote || c.text));
      b.addEventListener('click', function () { openPassage(c, b, turn); });
      item.appendChild(b);
      list.appendChild(item);
    });
    box.appendChild(list);
    this.bubble.appendChild(box);
  };

  Turn.prototype.renderRelated = function (retrieved) {
    if (!retrieved.length) return;
    var box = el('div', 'related');
    box.appendChild(el('h3', null, '可能相关的段落（仅供参考，不能作为回答依据）'));
    var list = el('ul');
    retrieved.slice(0, 3).forEach(function (r) {
      var item = el('li');
      var b = el('button', 'source');
      b.type = 'button';
      var head = el('div');
      head.appendChild(el('span', 'doc-title', r.title || r.source));
      b.appendChild(head);
      var meta = docLabel(r);
      if (meta) b.appendChild(el('div', 'meta', meta));
      b.appendChild(el('div', 'snippet', r.text));
      b.addEventListener('click', function () { openPassage(r, b, null); });
      item.appendChild(b);
      list.appendChild(item);
    });
    box.appendChild(list);
    this.bubble.appendChild(box);
  };

  Turn.prototype.renderActions = function () {
    var answer = this.answer;
    var bar = el('div', 'actions');
    var copy = el('button', 'act copy', '复制');
    copy.type = 'button';
    copy.addEventListener('click', function () {
      copyText(plainAnswer(answer)).then(function (ok) {
        copy.textContent = ok ? '已复制' : '复制失败';
        setTimeout(function () { copy.textContent = '复制'; }, 1600);
      });
    });
    bar.appendChild(copy);
    if (answer.answer_id) {
      var up = el('button', 'act up');
      var down = el('button', 'act down');
      up.append(thumb(false), document.createTextNode('有用'));
      down.append(thumb(true), document.createTextNode('没用'));
      var msg = el('span', 'act-msg');
      up.type = down.type = 'button';
      up.addEventListener('click', function () {
        sendFeedback(answer.answer_id, 'up', null, [up, down], up, msg);
      });
      down.addEventListener('click', function () {
        if (bar.querySelector('.comment-box')) return;
        var box = el('form', 'comment-box');
        var input = el('input');
        input.placeholder = '哪里不对？（可选）';
        input.maxLength = 1000;
        var submit = el('button', 'act', '提交');
        submit.type = 'submit';
        box.append(input, submit);
        box.addEventListener('submit', function (ev) {
          ev.preventDefault();
          box.remove();
          sendFeedback(answer.answer_id, 'down', input.value.trim() || null, [up, down], down, msg);
        });
        bar.appendChild(box);
        input.focus();
      });
      bar.append(up, down, msg);
    }
    this.bubble.appendChild(bar);
  };

  function thumb(down) {
    // drawn, not an emoji: intranet desktops often lack a colour-emoji font
    var svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('class', 'thumb' + (down ? ' thumb-down' : ''));
    var path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
    path.setAttribute('d', 'M2 21h4V9H2v12zm20-11a2 2 0 0 0-2-2h-6.3l1-4.6v-.3c0-.4-.2-.8-.4-1.1L13.2 1 6.6 7.6' +
      'C6.2 7.9 6 8.4 6 9v10a2 2 0 0 0 2 2h9c.8 0 1.5-.5 1.8-1.2l3-7.1c.1-.2.2-.5.2-.7v-2z');
    svg.appendChild(path);
    return svg;
  }

  function plainAnswer(answer) {
    var lines = [answer.answer];
    var cites = answer.answerable ? (answer.citations || []) : [];
    if (cites.length) {
      lines.push('', '来源：');
      cites.forEach(function (c) {
        lines.push('[' + c.n + '] ' + (c.title || c.source) + (c.date ? '（' + c.date + '）' : '') +
          (c.section ? ' ' + c.section : ''));
      });
    }
    return lines.join('\n');
  }

  async function copyText(text) {
    try {
      if (navigator.clipboard && window.isSecureContext) {
        await navigator.clipboard.writeText(text);
        return true;
      }
    } catch (e) { /* fall back below */ }
    // plain-http intranet hosts are not secure contexts: the old selection-based copy still works there
    var area = el('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
    area.remove();
    return ok;
  }

  async function sendFeedback(answerId, rating, comment, buttons, chosen, msg) {
    buttons.forEach(function (b) { b.disabled = true; });
    try {
      var resp = await fetch(api('api/feedback'), {
        method: 'POST', headers: headers(),
        body: JSON.stringify({ answer_id: answerId, rating: rating, comment: comment })
      });
      if (!resp.ok) throw new Error(await errorText(resp));
      chosen.classList.add('chosen');
      msg.textContent = '感谢反馈';
    } catch (e) {
      buttons.forEach(function (b) { b.disabled = false; });
      msg.textContent = '反馈未能提交：' + e.message;
    }
  }

  /* ---------- asking ---------- */

  async function ask(question) {
    if (state.busy || !question) return;
    if (!filtersChanged()) { ui.filters.hidden = false; return; }
    ui.welcome.hidden = true;
    var turn = new Turn(question);
    ui.log.appendChild(turn.root);
    scrollChat();
    setBusy(true);
    var controller = new AbortController();
    state.controller = controller;
    var body = { question: question, conversation_id: state.conversationId, filters: currentFilters(), stream: true };
    try {
      var resp = await fetch(api('api/chat'), {
        method: 'POST', headers: headers({ Accept: 'text/event-stream' }), body: JSON.stringify(body),
        signal: controller.signal
      });
      if (!resp.ok) { turn.fail(await errorText(resp)); return; }
      if (!(resp.headers.get('content-type') || '').includes('text/event-stream')) {
        turn.finish(await resp.json());  // a server that does not stream still answers in one piece
        return;
      }
      var finished = false;
      await readEvents(resp.body, function (event, raw) {
        var data;
        try { data = JSON.parse(raw); } catch (e) { return; }
        if (event === 'sources') turn.sources(data);
        else if (event === 'delta') turn.delta(data.text || '');
        else if (event === 'done') { finished = true; turn.finish(data); }
        else if (event === 'error') { finished = true; turn.fail('出错了：' + (data.detail || data.error)); }
      });
      if (!finished) turn.fail('回答中断，请重试。');
    } catch (e) {
      if (e.name === 'AbortError') turn.fail('已停止。');
      else turn.fail('无法连接服务器：' + e.message);
    } finally {
      state.controller = null;
      setBusy(false);
    }
  }

  function setBusy(busy) {
    state.busy = busy;
    ui.send.textContent = busy ? '停止' : '发送';
    ui.send.classList.toggle('stop', busy);
    ui.send.type = busy ? 'button' : 'submit';
  }

  function scrollChat() { ui.chat.scrollTop = ui.chat.scrollHeight; }

  function newConversation() {
    if (state.controller) state.controller.abort();
    state.conversationId = null;
    ui.log.textContent = '';
    ui.welcome.hidden = false;
    closeReader();
    ui.question.value = '';
    ui.question.focus();
  }

  /* ---------- the document reader ---------- */

  async function fetchDocument(docId) {
    if (state.docCache.has(docId)) return state.docCache.get(docId);
    var resp = await fetch(api('api/documents/' + encodeURIComponent(docId)), { headers: headers() });
    if (!resp.ok) throw new Error(await errorText(resp));
    var doc = await resp.json();
    state.docCache.set(docId, doc);
    return doc;
  }

  async function openPassage(item, button, turn) {
    if (state.activeCite) state.activeCite.forEach(function (b) { b.classList.remove('active'); });
    var related = [button];
    if (turn && item.n !== undefined) {
      related = Array.prototype.slice.call(turn.bubble.querySelectorAll('[data-n="' + item.n + '"]'));
    }
    related.forEach(function (b) { b.classList.add('active'); });
    state.activeCite = related;

    ui.reader.hidden = false;
    ui.reader.dataset.state = 'loading';
    ui.readerTitle.textContent = item.title || item.source;
    ui.readerMeta.textContent = '正在打开原文…';
    ui.readerBody.textContent = '';
    var doc = null;
    if (item.doc_id) {
      try { doc = await fetchDocument(item.doc_id); } catch (e) { ui.readerMeta.textContent = e.message; }
    }
    if (doc) showDocument(doc, item);
    else showPassageOnly(item);
  }

  function showDocument(doc, item) {
    ui.readerTitle.textContent = doc.title || doc.source;
    var meta = [doc.date, doc.speaker, doc.kind, item.section, doc.source].filter(Boolean);
    ui.readerMeta.textContent = meta.join(' · ');
    var text = doc.text || '';
    var start = Math.max(0, Math.min(item.start, text.length));
    var end = Math.max(start, Math.min(item.end, text.length));
    var body = ui.readerBody;
    body.textContent = '';
    body.appendChild(document.createTextNode(text.slice(0, start)));
    var mark = el('mark', 'hl');
    mark.id = 'hl';
    appendPassage(mark, text.slice(start, end), item.quote);
    body.appendChild(mark);
    body.appendChild(document.createTextNode(text.slice(end)));
    ui.reader.dataset.state = 'ready';
    ui.reader.dataset.docId = doc.id;
    requestAnimationFrame(function () { mark.scrollIntoView({ block: 'center' }); });
    ui.readerClose.focus({ preventScroll: true });
  }

  function appendPassage(mark, passage, quote) {
    // the sentences the answer used are marked more strongly inside the cited passage
    var at = quote ? passage.indexOf(quote) : -1;
    if (at < 0) { mark.textContent = passage; return; }
    mark.appendChild(document.createTextNode(passage.slice(0, at)));
    mark.appendChild(el('span', 'quote', quote));
    mark.appendChild(document.createTextNode(passage.slice(at + quote.length)));
  }

  function showPassageOnly(item) {
    var meta = [item.date, item.section, item.source].filter(Boolean);
    if (ui.readerMeta.textContent === '正在打开原文…') ui.readerMeta.textContent = meta.join(' · ');
    ui.readerBody.textContent = '';
    ui.readerBody.appendChild(el('p', 'reader-note', '未能打开全文，以下为引用段落：'));
    var mark = el('mark', 'hl', item.text);
    mark.id = 'hl';
    ui.readerBody.appendChild(mark);
    ui.reader.dataset.state = 'passage';
  }

  function closeReader() {
    ui.reader.hidden = true;
    if (state.activeCite) state.activeCite.forEach(function (b) { b.classList.remove('active'); });
    state.activeCite = null;
  }

  /* ---------- wiring ---------- */

  ui.form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var question = ui.question.value.trim();
    if (!question || state.busy) return;
    if (!filtersChanged()) { ui.filters.hidden = false; return; }
    ui.question.value = '';
    autoGrow();
    ask(question);
  });
  ui.send.addEventListener('click', function (ev) {
    if (state.busy && state.controller) { ev.preventDefault(); state.controller.abort(); }
  });
  ui.question.addEventListener('keydown', function (ev) {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      if (ui.form.requestSubmit) ui.form.requestSubmit();
      else ui.form.dispatchEvent(new Event('submit', { cancelable: true }));  // Safari before 16
    }
  });
  function autoGrow() {
    ui.question.style.height = 'auto';
    ui.question.style.height = ui.question.scrollHeight + 2 + 'px';
  }
  ui.question.addEventListener('input', autoGrow);
  Array.prototype.forEach.call(document.querySelectorAll('.example'), function (b) {
    b.addEventListener('click', function () { ask(b.textContent); });
  });
  ui.newBtn.addEventListener('click', newConversation);
  ui.filterBtn.addEventListener('click', function () {
    ui.filters.hidden = !ui.filters.hidden;
    ui.filterBtn.setAttribute('aria-expanded', String(!ui.filters.hidden));
  });
  ui.filters.addEventListener('submit', function (ev) { ev.preventDefault(); });
  [ui.fDoc, ui.fFrom, ui.fTo].forEach(function (input) { input.addEventListener('change', filtersChanged); });
  ui.fClear.addEventListener('click', function () {
    ui.fDoc.value = ''; ui.fFrom.value = ''; ui.fTo.value = '';
    filtersChanged();
  });
  ui.fKey.value = state.key;
  ui.fKey.addEventListener('change', function () {
    state.key = ui.fKey.value.trim();
    try { localStorage.setItem(KEY_STORE, state.key); } catch (e) { /* blocked storage: key lives for this page */ }
    loadDocuments();
  });
  ui.readerClose.addEventListener('click', closeReader);
  document.addEventListener('keydown', function (ev) {
    if (ev.key === 'Escape' && !ui.reader.hidden) closeReader();
  });

  applyLook();
  loadConfig();
  loadDocuments();
})();
