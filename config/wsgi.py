import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_wsgi_application()

# Import the broker transport (kombu's Redis transport pulls in redis-py and redis.asyncio: ~0.5-1 s
# on a busy 2-core host) while the web process starts, not during the first request that queues a
# task after commit (clocks.notify.kick_delivery, issue 10).
import kombu.transport.redis  # noqa: E402, F401
