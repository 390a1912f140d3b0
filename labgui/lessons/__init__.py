"""Lessons in the GUI: the Lessons menu, the lesson panel (predict, run, compare), variants on the canvas.

Sits above labgui.run and labgui.replay (it starts runs through the run
controller and opens two runs side by side in the replay's compare window)
and below labgui.app, which attaches it to the main window; it names what it
needs of the window in `host.LessonHost`. The lesson format and the judging of
answers are engines.lessons.
"""
