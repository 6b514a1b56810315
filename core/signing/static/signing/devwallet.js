// DEV ONLY (DEBUG on the local chain 31337): a browser wallet backed by anvil's default accounts.
// It provides window.ethereum (EIP-1193); each request goes to the server's dev wallet endpoint,
// which signs with the chosen account's public dev key. The account comes from the link's
// "#dev-account=N" (the sandbox chat adds it for the person who opened the link), else from the
// last choice in this browser, else 5 (accounts 0-4 also act for the platform).
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("devwallet-config").textContent);
  const fromLink = new URLSearchParams(location.hash.slice(1)).get("dev-account");
  const stored = localStorage.getItem("lendgram.devAccount");
  let index = Number(fromLink !== null ? fromLink : stored !== null ? stored : 5);
  if (!config.accounts.some((a) => a.index === index)) index = 5;

  function csrfToken() {
    const match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  async function request({ method, params }) {
    const response = await fetch(config.endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      credentials: "same-origin",
      body: JSON.stringify({ account: index, method: method, params: params || [] }),
    });
    const reply = await response.json();
    if (reply.error) {
      const error = new Error(reply.error.message);
      error.code = reply.error.code;
      throw error;
    }
    return reply.result;
  }

  window.ethereum = { isLendgramDevWallet: true, request: request,
                      on: () => {}, removeListener: () => {} };

  // A small picker, so the person can see and change which dev account signs.
  const box = document.getElementById("devwallet");
  if (!box) return;
  const select = box.querySelector("select");
  config.accounts.forEach((account) => {
    const option = document.createElement("option");
    option.value = String(account.index);
    option.textContent = "#" + account.index + " " + account.address.slice(0, 8) + "…" +
      account.address.slice(-4) + (account.role ? " (" + account.role + ")" : "");
    select.append(option);
  });
  select.value = String(index);
  select.addEventListener("change", () => {
    index = Number(select.value);
    localStorage.setItem("lendgram.devAccount", select.value);
  });
  box.hidden = false;
})();
