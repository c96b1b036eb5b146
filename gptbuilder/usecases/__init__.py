"""Use cases: what the app does for its users (assistants, knowledge, chat, sharing), below
any user interface. The Gradio UI (``gptbuilder.ui``) calls only these, so that another front
end (an HTTP API) can call the same functions. Plain Python: no Gradio here. Each class is
given its collaborators when ``Services.build`` wires the app; none holds module-level state.
"""

from gptbuilder.usecases.assistants import (
    AssistantForm,
    Assistants,
    AssistantSummary,
    ModelOptions,
)
from gptbuilder.usecases.chat import Chat, Found, Question, Step, Turn
from gptbuilder.usecases.knowledge import FileStatus, Knowledge, PassageInPage, UploadJob
from gptbuilder.usecases.saved import SavedAnswer, TaskInfo
from gptbuilder.usecases.sharing import Exported, Imported, Sharing

__all__ = [
    "AssistantForm",
    "AssistantSummary",
    "Assistants",
    "Chat",
    "Exported",
    "Found",
    "FileStatus",
    "Imported",
    "Knowledge",
    "ModelOptions",
    "PassageInPage",
    "Question",
    "SavedAnswer",
    "Sharing",
    "Step",
    "TaskInfo",
    "Turn",
    "UploadJob",
]
