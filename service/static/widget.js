/* PolicyQA embeddable widget.
 *
 *   <script src="http://HOST/widget.js" data-title="政策问答" data-color="#b42318"
 *           data-position="right" data-api-key="KEY" defer></script>
 *
 * Adds a floating button and a panel holding an iframe to HOST/embed. The chat runs inside the iframe, so the
 * portal's styles and scripts and the chat's cannot affect each other; the button and panel live in a shadow root
 * for the same reason. HOST is taken from this script's own src, so the tag is the only thing a portal configures.
 * Portals that prefer a plain iframe can use:
 *   <iframe src="http://HOST/embed?title=政策问答&color=%23b42318" width="400" height="600"></iframe>
 */
(function () {
  'use strict';

  var script = document.currentScript || (function () {
    var all = document.querySelectorAll('script[src*="widget.js"]');
    return all[all.length - 1];
  })();
  if (!script || window.__policyqaWidget) return;  // one widget per page, even if the tag is pasted twice

  var base = new URL('./', script.src);
  var opts = {
    title: script.getAttribute('data-title') || '政策问答',
    color: script.getAttribute('data-color') || '#b42318',
    position: script.getAttribute('data-position') === 'left' ? 'left' : 'right',
    key: script.getAttribute('data-api-key') || '',
    open: script.getAttribute('data-open') === 'true'
  };
  // the colour goes into CSS: accept plain colour values only
  if (!/^(#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,20})$/.test(opts.color)) opts.color = '#b42318';

  function embedUrl() {
    var url = new URL('embed', base);
    url.searchParams.set('title', opts.title);
    url.searchParams.set('color', opts.color);
    if (opts.key) url.searchParams.set('key', opts.key);
    return url.toString();
  }

  var host = document.createElement('div');
  host.id = 'policyqa-widget';
  host.setAttribute('data-position', opts.position);
  var root = host.attachShadow ? host.attachShadow({ mode: 'open' }) : host;
  var side = opts.position;

  var style = document.createElement('style');
  style.textContent = [
    ':host { all: initial; }',
    '.pqa-button { position: fixed; bottom: 20px; ' + side + ': 20px; z-index: 2147483000;',
    '  width: 56px; height: 56px; border-radius: 50%; border: 0; cursor: pointer; color: #fff;',
    '  background: ' + opts.color + '; box-shadow: 0 4px 14px rgba(0,0,0,.25);',
    '  display: flex; align-items: center; justify-content: center; padding: 0;',
    '  font: 600 15px/1 system-ui, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif; }',
    '.pqa-button:hover { transform: scale(1.05); }',
    '.pqa-button:focus-visible { outline: 3px solid #fff; box-shadow: 0 0 0 5px ' + opts.color + '; }',
    '.pqa-button svg { width: 26px; height: 26px; fill: currentColor; }',
    '.pqa-panel { position: fixed; bottom: 88px; ' + side + ': 20px; z-index: 2147483000;',
    '  width: 400px; height: 620px; max-width: calc(100vw - 24px); max-height: calc(100vh - 110px);',
    '  border-radius: 12px; overflow: hidden; background: #fff; box-shadow: 0 10px 40px rgba(0,0,0,.28); }',
    '.pqa-panel[hidden] { display: none; }',
    '.pqa-panel iframe { border: 0; width: 100%; height: 100%; display: block; }',
    '@media (max-width: 480px) {',
    // phones: the panel takes the screen above a strip that keeps the close button reachable
    '  .pqa-panel { top: 0; left: 0; right: 0; bottom: 64px; width: auto; height: auto;',
    '    max-width: none; max-height: none; border-radius: 0; }',
    '  .pqa-open .pqa-button { bottom: 8px; width: 48px; height: 48px; }',
    '}'
  ].join('\n');

  var wrap = document.createElement('div');
  var button = document.createElement('button');
  button.type = 'button';
  button.className = 'pqa-button';
  button.setAttribute('aria-expanded', 'false');
  button.setAttribute('aria-label', '打开' + opts.title);
  button.title = opts.title;
  var CHAT_ICON = 'M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zm3 6v2h2v-2H7zm4 0v2h2v-2h-2zm4 0v2h2v-2h-2z';
  var CLOSE_ICON = 'M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12 19 17.6 17.6 19 12 13.4 6.4 19 5 17.6 10.6 12 5 6.4z';
  var svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  var path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
  path.setAttribute('d', CHAT_ICON);
  svg.appendChild(path);
  button.appendChild(svg);

  var panel = document.createElement('div');
  panel.className = 'pqa-panel';
  panel.hidden = true;
  panel.setAttribute('role', 'dialog');
  panel.setAttribute('aria-label', opts.title);
  var frame = null;

  function open() {
    if (!frame) {
      // created on first open, so a portal page does not load the chat until someone uses it
      frame = document.createElement('iframe');
      frame.title = opts.title;
      frame.src = embedUrl();
      frame.setAttribute('allow', 'clipboard-write');
      panel.appendChild(frame);
    }
    panel.hidden = false;
    wrap.classList.add('pqa-open');
    button.setAttribute('aria-expanded', 'true');
    button.setAttribute('aria-label', '关闭' + opts.title);
    path.setAttribute('d', CLOSE_ICON);
    frame.focus();
  }

  function close() {
    panel.hidden = true;
    wrap.classList.remove('pqa-open');
    button.setAttribute('aria-expanded', 'false');
    button.setAttribute('aria-label', '打开' + opts.title);
    path.setAttribute('d', CHAT_ICON);
  }

  function toggle() { if (panel.hidden) open(); else close(); }

  button.addEventListener('click', toggle);
  document.addEventListener('keydown', function (ev) { if (ev.key === 'Escape' && !panel.hidden) close(); });

  wrap.append(panel, button);
  root.append(style, wrap);

  function mount() {
    document.body.appendChild(host);
    if (opts.open) open();
  }
  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount);

  window.__policyqaWidget = true;
  window.PolicyQAWidget = { open: open, close: close, toggle: toggle };
})();
