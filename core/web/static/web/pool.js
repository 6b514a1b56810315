// The pool page for visitors who are not signed in: connect the injected wallet and show its
// position. Deposits and withdrawals go through the signing page once signed in.
(function () {
  "use strict";
  const text = JSON.parse(document.getElementById("pool-messages").textContent);
  const button = document.getElementById("connect");
  const notice = document.getElementById("notice");

  function show(message) {
    notice.hidden = false;
    notice.className = "notice bad";
    notice.textContent = message;
  }

  async function connect() {
    if (!window.ethereum) return show(text.noWallet);
    button.disabled = true;
    try {
      const accounts = await window.ethereum.request({ method: "eth_requestAccounts" });
      const address = ethers.getAddress(accounts[0]);
      const response = await fetch("position?address=" + encodeURIComponent(address));
      const data = await response.json();
      if (!data.ok) throw new Error(data.error);
      document.getElementById("connected-assets").textContent = data.assets;
      document.getElementById("connected-wallet").textContent = data.wallet;
      document.getElementById("connected").hidden = false;
      button.hidden = true;
    } catch (error) {
      button.disabled = false;
      show(text.failed + " " + (error.shortMessage || error.message));
    }
  }

  button.addEventListener("click", connect);
})();
