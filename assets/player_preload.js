// Gradio's video players ask the browser for their whole video at once (preload="auto"). Chromium then
// buffers much of a 35 MB result before it shows the first frame (about 0.2 s later than with
// "metadata"), and every video the page holds (result, reference clip, side by side) is downloaded
// whether it is played or not, a real cost on a phone. With "metadata" the first frame shows at once
// and the rest is fetched when the video plays.
(() => {
  const lighten = (video) => {
    if (video.getAttribute("preload") !== "metadata") video.setAttribute("preload", "metadata");
  };
  const observer = new MutationObserver((records) => {
    for (const record of records) {
      if (record.type === "attributes") {
        if (record.target.tagName === "VIDEO") lighten(record.target);
        continue;
      }
      for (const node of record.addedNodes) {
        if (node.nodeType !== Node.ELEMENT_NODE) continue;
        if (node.tagName === "VIDEO") lighten(node);
        else node.querySelectorAll("video").forEach(lighten);
      }
    }
  });
  observer.observe(document.documentElement, {
    subtree: true,
    childList: true,
    attributes: true,
    attributeFilter: ["preload"],
  });
})();
