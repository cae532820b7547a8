// The studio's notice ("saved …", "refused …"): in the header's free room between the pages'
// names and the open design's name, never over a header control or a page's toolbar.
import { useEffect, useState } from "react";
import { useDesign } from "../store";

/** How long a notice shows unless the pointer rests on it (to read or scroll a long one). */
const NOTICE_MS = 6000;

type Shown = NonNullable<ReturnType<typeof useDesign.getState>["notice"]>;

export function Notice() {
  const notice = useDesign((state) => state.notice);
  const [held, setHeld] = useState<Shown | null>(null);  // the notice the pointer rests on
  useEffect(() => {
    if (!notice || held === notice) return;
    const timer = setTimeout(() => useDesign.setState({ notice: null }), NOTICE_MS);
    return () => clearTimeout(timer);
  }, [notice, held]);
  if (!notice) return null;
  return (
    <div className="notice-slot">
      <div className={`notice ${notice.kind}`} role="status"
        onClick={() => useDesign.setState({ notice: null })}
        onMouseEnter={() => setHeld(notice)} onMouseLeave={() => setHeld(null)}>
        <div className="notice-text">{notice.text}</div>
      </div>
    </div>
  );
}
