.PHONY: run test lint messages bench backup restore clean-services

run:  ## Run the system (gunicorn, Celery worker and beat, embedded PostgreSQL) with demo data; PORT=8101 make run for another port
	scripts/run.sh

test:  ## Install what is needed and run lint, type checks and the whole test suite
	scripts/test.sh

lint:
	scripts/bootstrap.sh
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy .

messages:  ## Refresh and compile translations
	.venv/bin/python manage.py makemessages -l zh_Hans -l en --ignore=.venv --ignore=var
	.venv/bin/python manage.py compilemessages --ignore=.venv

bench:  ## Benchmarks, ours and the peer side by side (make bench ARGS="--cases 1000000")
	scripts/bench.sh $(ARGS)

backup:  ## Dump the database (pg_dump custom format) and the media files into var/backups/<timestamp>/
	scripts/backup.sh

restore:  ## Restore a backup into an empty database: make restore BACKUP=var/backups/<timestamp>
	scripts/restore.sh $(BACKUP)

clean-services:  ## Stop the test servers and the embedded PostgreSQL of make run
	scripts/services.sh stop
	.venv/bin/python -m config.embedded_pg stop
