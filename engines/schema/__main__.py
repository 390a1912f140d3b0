from engines.schema import LESSON_SCHEMA_PATH, SCHEMA_PATH, render, render_lesson

SCHEMA_PATH.write_text(render(), encoding="utf-8")
print(f"wrote {SCHEMA_PATH}")
LESSON_SCHEMA_PATH.write_text(render_lesson(), encoding="utf-8")
print(f"wrote {LESSON_SCHEMA_PATH}")
