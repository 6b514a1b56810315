// Entry of the WalletConnect bundle that `make setup` builds with esbuild (npm run
// build:walletconnect) into core/static/vendor/: the npm UMD build expects viem, lit and bs58
// as page globals, so the page gets one self-contained file instead.
import { EthereumProvider } from "@walletconnect/ethereum-provider";

window.LendgramWalletConnect = { EthereumProvider };
