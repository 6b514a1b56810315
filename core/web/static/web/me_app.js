// Telegram Mini App entry: Telegram hands the page signed init data (window.Telegram.WebApp
// when its script runs, and always the URL fragment #tgWebAppData=...); the server checks its
// HMAC against the bot token and opens the session.
(function () {
  "use strict";
  const notice = document.getElementById("notice");
  const webApp = window.Telegram && window.Telegram.WebApp;
  const fragment = new URLSearchParams(window.location.hash.slice(1));
  const initData = (webApp && webApp.initData) || fragment.get("tgWebAppData") || "";

  function refuse(message) {
    notice.className = "notice bad";
    notice.textContent = message;
  }

  function csrfToken() {
    const match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  if (webApp && typeof webApp.ready === "function") webApp.ready();  // hide Telegram's loader

  fetch("auth", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify({ init_data: initData }),
  }).then(async (response) => {
    // A refusal is JSON with the reason; anything else (a proxy's error page) is not.
    const data = await response.json().catch(() => (
      { ok: false, error: notice.dataset.failed + " HTTP " + response.status }));
    if (data.ok) {
      window.location.replace(data.next);
    } else {
      refuse(data.error);
    }
  }).catch((error) => refuse(notice.dataset.failed + " " + error.message));
})();
