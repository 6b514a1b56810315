// Telegram Mini App entry: Telegram puts signed init data in the URL fragment
// (#tgWebAppData=...); the server checks its HMAC and opens the session.
(function () {
  "use strict";
  const notice = document.getElementById("notice");
  const fragment = new URLSearchParams(window.location.hash.slice(1));
  const initData = fragment.get("tgWebAppData") || "";

  function csrfToken() {
    const match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  fetch("auth", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify({ init_data: initData }),
  }).then((response) => response.json()).then((data) => {
    if (data.ok) {
      window.location.replace(data.next);
    } else {
      notice.className = "notice bad";
      notice.textContent = data.error;
    }
  });
})();
