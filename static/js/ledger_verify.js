/* 核验: a donor's receipt checked in the donor's own browser against the public ledger log,
 * step by step, with the spec's pieces of ledger_verify_specs.js (loaded first). The server only
 * hands out public data; nothing here trusts its word: every answer is recomputed or its
 * signature checked against the platform key printed on this page.
 */
(function () {
  "use strict";

  var spec = window.xiangzhuLedgerVerify;
  var RETRY_SECONDS = 15;
  var RETRIES = 8;

  var STEP_LABELS = {
    checkpoint: "读取最新的签名检查点",
    signature: "用平台公钥核验检查点的签名",
    leaf: "读取账本中的这条记录",
    root: "用包含证明重算账本根，与签名的根比对",
    receipt: "用凭证重算记录的承诺，与账本记录比对"
  };
  var STEP_ORDER = ["checkpoint", "signature", "leaf", "root", "receipt"];

  function Failure(step, title, detail, pending) {
    this.step = step;
    this.title = title;
    this.detail = detail || "";
    this.pending = !!pending;
  }

  function yuan(fen) {
    var sign = fen < 0 ? "-" : "", abs = Math.abs(fen);
    var whole = String(Math.floor(abs / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    var cents = abs % 100;
    return sign + "¥" + whole + "." + (cents < 10 ? "0" : "") + cents;
  }

  function chinaTime(utc) {
    var moment = new Date(utc);
    if (isNaN(moment.getTime())) return utc;
    return moment.toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false }) + "（北京时间）";
  }

  // ---- talking to the log ------------------------------------------------------------------

  async function fetchText(url, step) {
    var response;
    try {
      response = await fetch(url, { cache: "no-cache", credentials: "omit" });
    } catch (e) {
      throw new Failure(step, "无法连接公开账本", "网络中断或服务器无响应，请稍后重试。");
    }
    if (response.status === 404 && step === "checkpoint") {
      throw new Failure(step, "该条尚未记入公开账本", "账本还没有签名的检查点。捐款通常在 1 分钟内记入，稍后将自动重试。", true);
    }
    if (!response.ok) {
      throw new Failure(step, "无法读取公开账本", "服务器返回 " + response.status + "，请稍后重试。");
    }
    return response.text();
  }

  async function fetchJson(url, step) {
    var text = await fetchText(url, step);
    try { return JSON.parse(text); } catch (e) {
      throw new Failure(step, "账本数据格式不符", "服务器返回的不是 JSON。");
    }
  }

  function withQuery(base, params) {
    var query = Object.keys(params).map(function (k) {
      return encodeURIComponent(k) + "=" + encodeURIComponent(params[k]);
    }).join("&");
    return base + (base.indexOf("?") < 0 ? "?" : "&") + query;
  }

  // ---- the page ----------------------------------------------------------------------------

  var page = document.getElementById("ledger-verify");
  if (!page) return;

  var stepsList = document.getElementById("verify-steps");
  var result = document.getElementById("verify-result");
  var summary = document.getElementById("verify-receipt");
  var form = document.getElementById("verify-form");
  var retryButton = document.getElementById("verify-retry");
  var current = null;
  var retryTimer = null;
  var retriesLeft = RETRIES;
  var running = false;

  function setStep(step, state, note) {
    var item = stepsList.querySelector('[data-step="' + step + '"]');
    if (!item) return;
    item.dataset.state = state;
    item.querySelector(".step-mark").textContent = { running: "…", ok: "✓", failed: "✗", waiting: "○" }[state];
    item.querySelector(".step-note").textContent = note || "";
  }

  function resetSteps(index) {
    stepsList.hidden = false;
    STEP_ORDER.forEach(function (step) {
      var label = STEP_LABELS[step];
      if (step === "leaf") label = "读取账本第 " + (index + 1) + " 条记录（索引 " + index + "）";
      stepsList.querySelector('[data-step="' + step + '"] .step-label').textContent = label;
      setStep(step, "waiting");
    });
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function line(parent, tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    node.textContent = text;
    parent.appendChild(node);
    return node;
  }

  function showSummary(receipt) {
    clear(summary);
    summary.hidden = false;
    var rows = [["账本位置", "第 " + (receipt.index + 1) + " 条（索引 " + receipt.index + "）"],
                ["商户订单号", receipt.sourceRef], ["凭证密钥 salt", receipt.salt]];
    rows.forEach(function (row) {
      line(summary, "dt", "", row[0]);
      line(summary, "dd", "mono", row[1]);
    });
  }

  function showOutcome(outcome, title, detailLines) {
    clear(result);
    result.hidden = false;
    result.dataset.outcome = outcome;
    line(result, "p", "verify-title", title);
    (detailLines || []).forEach(function (text) { line(result, "p", "verify-detail", text); });
    retryButton.hidden = outcome === "ok";
  }

  function campaignOf(legs) {
    for (var i = 0; i < legs.length; i++) {
      var match = /^campaign:(\d+):custody$/.exec(legs[i].account);
      if (match && legs[i].fen > 0) return { id: Number(match[1]), fen: legs[i].fen };
    }
    return null;
  }

  async function campaignTitle(id) {
    try {
      var response = await fetch(page.dataset.campaignUrl + id, { credentials: "omit" });
      if (!response.ok) return null;
      var data = await response.json();
      return typeof data.title === "string" ? data.title : null;
    } catch (e) {
      return null;
    }
  }

  async function check(receipt, platformKey, witnessKeys) {
    setStep("checkpoint", "running");
    var noteText = await fetchText(page.dataset.checkpointUrl, "checkpoint");
    var note = spec.parseNote(noteText);
    var checkpoint = note && spec.parseCheckpoint(note.body);
    if (!checkpoint) throw new Failure("checkpoint", "检查点格式不符", "服务器返回的检查点不是有效的签名检查点。");
    setStep("checkpoint", "ok", "账本共 " + checkpoint.size + " 条");

    setStep("signature", "running");
    if (checkpoint.origin !== platformKey.name || !(await spec.platformSignatureHolds(note, platformKey))) {
      throw new Failure("signature", "签名不符",
        "检查点没有平台公钥 " + platformKey.name + " 的有效签名：它可能被篡改，或不是本平台签发的。");
    }
    var cosigned = await spec.cosignatures(note, platformKey, witnessKeys);
    setStep("signature", "ok", cosigned.seen
      ? "见证人副署 " + cosigned.seen + " 个，已核验 " + cosigned.verified + " 个"
      : "平台签名有效（暂无见证人副署）");

    setStep("leaf", "running");
    if (receipt.index >= checkpoint.size) {
      throw new Failure("leaf", "该条尚未记入公开账本",
        "最新检查点共 " + checkpoint.size + " 条。捐款通常在 1 分钟内记入，稍后将自动重试。", true);
    }
    var leaves = await fetchJson(withQuery(page.dataset.leavesUrl, { start: receipt.index, end: receipt.index + 1 }), "leaf");
    var entry = leaves && Array.isArray(leaves.leaves) && leaves.leaves[0];
    if (!entry || entry.index !== receipt.index || typeof entry.leaf !== "string") {
      throw new Failure("leaf", "账本数据格式不符", "服务器没有返回第 " + (receipt.index + 1) + " 条记录。");
    }
    var leafBytes = spec.encoder.encode(entry.leaf);
    var leaf;
    try { leaf = JSON.parse(entry.leaf); } catch (e) { leaf = null; }
    if (!leaf || leaf.type !== "ledger_transaction" || typeof leaf.ref !== "string" ||
        typeof leaf.kind !== "string" || !Array.isArray(leaf.legs)) {
      throw new Failure("leaf", "凭证与账本记录不符", "账本第 " + (receipt.index + 1) + " 条不是一笔账目记录。");
    }
    setStep("leaf", "ok", leaf.time ? "记账时间 " + chinaTime(leaf.time) : "");

    setStep("root", "running");
    var proof = await fetchJson(withQuery(page.dataset.proofUrl, { index: receipt.index, tree_size: checkpoint.size }), "root");
    var path = proof && Array.isArray(proof.audit_path) ? proof.audit_path.map(spec.fromBase64) : null;
    var computed = null;
    if (path && path.every(function (h) { return h && h.length === 32; })) {
      computed = await spec.rootFromInclusionProof(receipt.index, checkpoint.size, await spec.leafHash(leafBytes), path);
    }
    if (!computed || !spec.equalBytes(computed, checkpoint.rootHash)) {
      throw new Failure("root", "账本根不符",
        "由这条记录和包含证明算出的根，与平台签名的账本根不一致：账本或证明被改动过。");
    }
    setStep("root", "ok", "证明长度 " + path.length + "，根一致");

    setStep("receipt", "running");
    if (await spec.refCommitment(receipt.salt, leaf.kind, receipt.sourceRef) !== leaf.ref) {
      throw new Failure("receipt", "凭证与账本记录不符",
        "用凭证中的订单号和 salt 算出的承诺，与账本第 " + (receipt.index + 1) + " 条的 ref 不同：这份凭证不属于这条记录，或被改动过。");
    }
    setStep("receipt", "ok", "承诺一致");
    return { leaf: leaf, checkpoint: checkpoint, cosigned: cosigned };
  }

  function unexpected(error) {
    var running = stepsList.querySelector('[data-state="running"]');
    var step = running ? running.dataset.step : "checkpoint";
    if (error && error.name === "NotSupportedError") {
      return new Failure(step, "浏览器无法核验", "您的浏览器不支持 Ed25519 签名核验，请升级到最新版后重试。");
    }
    return new Failure(step, "核验出错", String(error && error.message || error));
  }

  async function run() {
    if (!current || running) return;
    running = true;
    clearTimeout(retryTimer);
    resetSteps(current.index);
    showOutcome("running", "正在核验…", ["全部计算都在您的浏览器中完成。"]);
    try {
      if (!window.crypto || !crypto.subtle) {
        throw new Failure("checkpoint", "浏览器无法核验", "请在 https 页面中，用最新版浏览器打开。");
      }
      var platformKey = await spec.parseVerifierKey(page.dataset.key, spec.ALG_ED25519);
      if (!platformKey) throw new Failure("signature", "签名不符", "页面中的平台公钥格式不正确。");
      var witnessKeys = [];
      var listed = (page.dataset.witnesses || "").split(/\s+/).filter(Boolean);
      for (var i = 0; i < listed.length; i++) {
        var w = await spec.parseVerifierKey(listed[i], spec.ALG_COSIGNATURE_V1);
        if (w) witnessKeys.push(w);
      }
      var found = await check(current, platformKey, witnessKeys);
      retriesLeft = RETRIES;
      var lines = [];
      var into = campaignOf(found.leaf.legs);
      if (into) {
        var title = await campaignTitle(into.id);
        lines.push("金额 " + yuan(into.fen) + "，记入" + (title ? "「" + title + "」" : "筹款 #" + into.id) + "的监管账户。");
      } else {
        found.leaf.legs.forEach(function (leg) { lines.push(leg.account + "：" + yuan(leg.fen)); });
      }
      lines.push("由平台签名的账本共 " + found.checkpoint.size + " 条；" +
        (found.cosigned.seen ? "见证人副署 " + found.cosigned.seen + " 个（已核验 " + found.cosigned.verified + " 个）。" : "暂无见证人副署。"));
      showOutcome("ok", "✓ 您的这笔捐款已记入公开账本第 " + (current.index + 1) + " 条", lines);
    } catch (error) {
      if (!(error instanceof Failure)) error = unexpected(error);
      setStep(error.step, "failed", error.title);
      var pending = error.pending;
      showOutcome(pending ? "pending" : "failed", "✗ " + error.title, [error.detail]);
      result.dataset.failedStep = error.step;
      if (pending && retriesLeft > 0) {
        retriesLeft -= 1;
        retryTimer = setTimeout(run, RETRY_SECONDS * 1000);
      }
    } finally {
      running = false;
    }
  }

  function start(text) {
    var receipt = spec.parseReceipt(text);
    if (!receipt) return false;
    current = receipt;
    retriesLeft = RETRIES;
    showSummary(receipt);
    run();
    return true;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var field = form.querySelector("[name=receipt]");
    var error = document.getElementById("verify-form-error");
    if (start(field.value)) {
      error.hidden = true;
    } else {
      error.hidden = false;
      field.focus();
    }
  });
  retryButton.addEventListener("click", function () { retriesLeft = RETRIES; run(); });
  window.addEventListener("hashchange", function () { start(location.hash); });

  if (!start(location.hash)) {
    form.querySelector("[name=receipt]").focus();
  }
})();
