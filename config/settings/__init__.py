"""Django settings, read from the environment (see .env.example), one module per concern.

With nothing set the project runs on its embedded default: SQLite under var/, a file-system
Celery broker and a file cache, so no Redis or PostgreSQL is needed. DATABASE_URL and
REDIS_URL switch to PostgreSQL and Redis.
"""

from config.settings.base import *  # noqa: F403
from config.settings.chain import *  # noqa: F403
from config.settings.jobs import *  # noqa: F403
from config.settings.kyc import *  # noqa: F403
from config.settings.lending import *  # noqa: F403
from config.settings.operations import *  # noqa: F403
from config.settings.scoring import *  # noqa: F403
from config.settings.security import *  # noqa: F403
from config.settings.storage import *  # noqa: F403
from config.settings.telegram import *  # noqa: F403
