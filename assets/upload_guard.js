// Files the page can't take are refused here, before a byte is sent, with one clear sentence in the
// page: a file over the upload limit (Gradio would send it and answer with its own "too large" toast)
// and a file of the wrong kind for its box (Gradio would refuse it with an "invalid file type" toast).
// A file whose kind the browser can't tell (a text file named .png has type image/png) goes on to the
// app, whose own check says what is wrong with it.
(() => {
  const BOXES = { "image-input": "image", "video-input": "clip" };
  const limit = () => (window.MOTION_STUDIO_MAX_MB || 100) * 1024 * 1024;
  const say = (text) => {
    const note = document.querySelector("#upload-refusal");
    if (!note) return;
    note.replaceChildren();
    if (!text) return;
    const line = document.createElement("p");  // text, never HTML: a file name is the user's
    line.className = "input-note refused";
    line.textContent = `❌ ${text}`;
    note.appendChild(line);
  };
  const kind = (file) => {
    if (file.type.startsWith("image/") || /\.(heic|heif)$/i.test(file.name)) return "image";
    if (file.type.startsWith("video/")) return "clip";
    return "other";
  };
  const refusal = (file, what) => {
    if (file.size > limit()) {
      const mb = (file.size / 1048576).toFixed(0);
      const fix = what === "clip"
        ? "Trim or compress the clip (fal takes clips up to 100 MB) and drop it again."
        : "Resize the photo or save it as JPG and drop it again.";
      return `${file.name} is ${mb} MB; this page takes files up to ${window.MOTION_STUDIO_MAX_MB} MB. ${fix}`;
    }
    const found = kind(file);
    if (what === "image" && found === "clip") {
      return `${file.name} is a video, not an image. Drop it in the Reference clip box, and a photo (JPG or PNG) here.`;
    }
    if (what === "clip" && found === "image") {
      return `${file.name} is an image, not a video. Drop it in the Character image box, and a clip (MP4 or MOV) here.`;
    }
    if (found === "other" && file.type) {  // a PDF, a ZIP…; files with no type go on to the app's check
      return what === "image"
        ? `${file.name} is not an image. Pick a photo (JPG or PNG).`
        : `${file.name} is not a video. Pick a clip (MP4 or MOV).`;
    }
    return null;
  };
  const check = (event, files) => {
    const box = event.target.closest && event.target.closest("#image-input, #video-input");
    if (!box || !files || !files.length) return;
    const what = BOXES[box.id];
    const text = Array.from(files).map((f) => refusal(f, what)).find((t) => t);
    if (!text) { say(""); return; }
    event.preventDefault();
    event.stopImmediatePropagation();
    if (event.target.type === "file") event.target.value = "";
    say(text);
  };
  document.addEventListener("change", (e) => check(e, e.target.files), true);
  document.addEventListener("drop", (e) => check(e, e.dataTransfer && e.dataTransfer.files), true);
})();
