// The signing page's client: connect the injected wallet (or WalletConnect, when configured),
// get onto the right chain, then either sign the wallet-link message or send the prepared
// transactions in order and report them.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("signing-config").textContent);
  const text = JSON.parse(document.getElementById("signing-messages").textContent);
  const button = document.getElementById("go");
  const notice = document.getElementById("notice");
  const base = "/s/" + encodeURIComponent(config.token) + "/";

  function show(message, kind) {
    notice.hidden = false;
    notice.className = "notice" + (kind ? " " + kind : "");
    notice.textContent = message;
  }

  function hideButtons() {
    document.querySelectorAll("#go, #go-walletconnect").forEach((node) => { node.hidden = true; });
  }

  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, (_, key) => String(values[key]));
  }

  function csrfToken() {
    const match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  async function post(path, body) {
    const response = await fetch(base + path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      credentials: "same-origin",
      body: JSON.stringify(body),
    });
    const data = await response.json();
    if (!data.ok) throw new Error(data.error || response.statusText);
    return data;
  }

  async function ensureChain(ethereum) {
    const current = await ethereum.request({ method: "eth_chainId" });
    if (BigInt(current) === BigInt(config.chain.chainId)) return;
    show(text.switching);
    try {
      await ethereum.request({ method: "wallet_switchEthereumChain",
                               params: [{ chainId: config.chain.chainId }] });
    } catch (error) {
      if (error && error.code === 4902) {  // the wallet does not know the chain yet
        await ethereum.request({ method: "wallet_addEthereumChain", params: [config.chain] });
      } else {
        throw error;
      }
    }
  }

  async function linkWallet(provider, account) {
    const { message } = await post("message", { address: account });
    show(text.signing);
    const signer = await provider.getSigner(account);
    const signature = await signer.signMessage(message);
    await post("verify", { message: message, signature: signature });
    hideButtons();
    show(text.linked, "ok");
  }

  async function sendTransactions(provider, account) {
    const signer = await provider.getSigner(account);
    const hashes = [];
    const steps = document.querySelectorAll("#steps li");
    const total = config.transactions.length;
    for (let i = 0; i < total; i++) {
      const tx = config.transactions[i];
      show(fill(text.sending, { n: i + 1, total: total }));
      const sent = await signer.sendTransaction({ to: tx.to, data: tx.data, value: tx.value });
      hashes.push(sent.hash);
      show(fill(text.mining, { n: i + 1, total: total }));
      // Each step waits for its block: a fund must not be sent before its approve is mined.
      const receipt = await sent.wait();
      if (!receipt || receipt.status !== 1) throw new Error(text.reverted);
      if (steps[i]) steps[i].classList.add("done");
    }
    await post("submitted", { tx_hashes: hashes });
    hideButtons();
    show(text.submitted, "ok");
    pollStatus();
  }

  async function pollStatus() {
    for (let attempt = 0; attempt < 120; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const data = await (await fetch(base + "status")).json();
      if (data.status === "confirmed") return show(text.confirmed, "ok");
      if (data.status === "failed") return show(text.failed + " " + data.failure_reason, "bad");
    }
  }

  async function injectedWallet() {
    return window.ethereum || null;
  }

  // WalletConnect (when the server has a project id): the bundle built by `make setup` shows
  // its own QR code / wallet list and returns an EIP-1193 provider like an injected wallet.
  async function walletConnect() {
    const chainId = Number(BigInt(config.chain.chainId));
    const provider = await window.LendgramWalletConnect.EthereumProvider.init({
      projectId: config.walletConnect.projectId,
      chains: [chainId],
      rpcMap: { [chainId]: config.chain.rpcUrls[0] },
      showQrModal: true,
      metadata: { name: "Lendgram", description: document.title, url: location.origin,
                  icons: [] },
    });
    await provider.connect();
    return provider;
  }

  async function run(connect, trigger) {
    trigger.disabled = true;
    try {
      const ethereum = await connect();
      if (!ethereum) {
        trigger.disabled = false;
        return show(text.noWallet, "bad");
      }
      const accounts = await ethereum.request({ method: "eth_requestAccounts" });
      const account = ethers.getAddress(accounts[0]);
      if (config.expectedSender && account !== ethers.getAddress(config.expectedSender)) {
        trigger.disabled = false;
        return show(text.wrongAccount + " " + config.expectedSender, "bad");
      }
      await ensureChain(ethereum);
      const provider = new ethers.BrowserProvider(ethereum);
      if (config.kind === "link_wallet") await linkWallet(provider, account);
      else await sendTransactions(provider, account);
    } catch (error) {
      trigger.disabled = false;
      const rejected = error && (error.code === 4001 || error.code === "ACTION_REJECTED");
      show(rejected ? text.rejected : text.failed + " " + (error.shortMessage || error.message),
           "bad");
    }
  }

  if (button) button.addEventListener("click", () => run(injectedWallet, button));
  const wcButton = document.getElementById("go-walletconnect");
  if (wcButton && config.walletConnect) {
    wcButton.addEventListener("click", () => run(walletConnect, wcButton));
  }
})();
