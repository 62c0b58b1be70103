"""The clock engine's models moved here from ``supervision`` (calendar, rules, deadlines,
escalation steps, notification outbox). State only: the tables already exist, created by
supervision's migrations 0001-0009 under the same names (Meta.db_table), so nothing in the database
changes. supervision 0010 then removes the models from supervision's state."""

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
import simple_history.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('core', '0002_initial'),
        ('petitions', '0006_case_list_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        # the tables these models use are created there
        ('supervision', '0009_per_user_notification_reads'),
    ]

    state_operations = [
        migrations.CreateModel(
            name='EscalationStep',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('step', models.PositiveSmallIntegerField(unique=True, verbose_name='step')),
                ('role', models.CharField(choices=[('reception', 'Reception'), ('triage', 'Triage'), ('officer', 'Department officer'), ('head', 'Department head'), ('supervisor', 'Supervisor'), ('leader', 'Leader'), ('archivist', 'Archivist'), ('admin', 'Administrator')], max_length=20, verbose_name='role')),
                ('after_days', models.PositiveSmallIntegerField(default=0, verbose_name='days overdue')),
                ('is_active', models.BooleanField(default=True, verbose_name='active')),
            ],
            options={
                'verbose_name': 'escalation step',
                'verbose_name_plural': 'escalation steps',
                'db_table': 'supervision_escalationstep',
                'ordering': ['step'],
            },
        ),
        migrations.CreateModel(
            name='CalendarYear',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('year', models.PositiveSmallIntegerField(unique=True, verbose_name='year')),
                ('source', models.CharField(choices=[('chinese_calendar', 'chinese_calendar package'), ('manual', 'Entered by an administrator')], max_length=20, verbose_name='source')),
            ],
            options={
                'verbose_name': 'calendar year',
                'verbose_name_plural': 'calendar years',
                'db_table': 'supervision_calendaryear',
                'ordering': ['year'],
                'constraints': [models.CheckConstraint(condition=models.Q(('year__gte', 2000), ('year__lte', 2200)), name='calendaryear_sane_year')],
            },
        ),
        migrations.CreateModel(
            name='DeadlineRule',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('screening', 'Screening decision'), ('objection', 'Objection to a transfer or assignment'), ('acceptance_notice', 'Written acceptance notice'), ('handling', 'Handling'), ('review_request', 'Request for review'), ('review_decision', 'Review decision'), ('supervision_order', 'Supervision order response'), ('extension', 'Extension')], max_length=20, verbose_name='kind')),
                ('province_region_code', models.CharField(blank=True, help_text='Leave blank for the national default.', max_length=6, validators=[django.core.validators.RegexValidator('^\\d{2}0000$', 'A province region code is six digits ending in 0000 (GB/T 2260).')], verbose_name='province region code')),
                ('length', models.PositiveSmallIntegerField(verbose_name='length')),
                ('day_type', models.CharField(choices=[('calendar', 'Calendar days'), ('working', 'Working days')], max_length=10, verbose_name='day type')),
                ('basis', models.CharField(blank=True, max_length=200, verbose_name='legal basis')),
                ('max_extension_days', models.PositiveSmallIntegerField(default=0, verbose_name='maximum extension (days)')),
            ],
            options={
                'verbose_name': 'deadline rule',
                'verbose_name_plural': 'deadline rules',
                'db_table': 'supervision_deadlinerule',
                'ordering': ['kind', 'province_region_code'],
                'constraints': [models.UniqueConstraint(fields=('kind', 'province_region_code'), name='deadlinerule_unique_kind_province'), models.CheckConstraint(condition=models.Q(('province_region_code', ''), ('province_region_code__regex', '^[0-9]{2}0000$'), _connector='OR'), name='deadlinerule_province_code_format')],
            },
        ),
        migrations.CreateModel(
            name='HistoricalDeadline',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('kind', models.CharField(choices=[('screening', 'Screening decision'), ('objection', 'Objection to a transfer or assignment'), ('acceptance_notice', 'Written acceptance notice'), ('handling', 'Handling'), ('review_request', 'Request for review'), ('review_decision', 'Review decision'), ('supervision_order', 'Supervision order response'), ('extension', 'Extension')], max_length=20, verbose_name='kind')),
                ('basis', models.CharField(blank=True, max_length=200, verbose_name='legal basis')),
                ('day_type', models.CharField(choices=[('calendar', 'Calendar days'), ('working', 'Working days')], max_length=10, verbose_name='day type')),
                ('starts_at', models.DateTimeField(verbose_name='starts at')),
                ('due_at', models.DateTimeField(verbose_name='due at')),
                ('is_provisional', models.BooleanField(default=False, help_text='Computed without the official holiday calendar for that year.', verbose_name='provisional')),
                ('paused_at', models.DateTimeField(blank=True, null=True, verbose_name='paused at')),
                ('paused_days', models.PositiveIntegerField(default=0, verbose_name='days paused')),
                ('extended_days', models.PositiveIntegerField(default=0, verbose_name='days extended')),
                ('extension_reason', models.TextField(blank=True, verbose_name='reason for extension')),
                ('met_at', models.DateTimeField(blank=True, null=True, verbose_name='met at')),
                ('warning_level', models.CharField(choices=[('on_time', 'On time'), ('approaching', 'Approaching'), ('severe', 'Due within a day'), ('overdue', 'Overdue')], default='on_time', max_length=12, verbose_name='warning level')),
                ('overdue_since', models.DateTimeField(blank=True, null=True, verbose_name='overdue since')),
                ('escalation_step', models.PositiveSmallIntegerField(default=0, verbose_name='escalation step')),
                ('assignment_id', models.BigIntegerField(blank=True, null=True, verbose_name='assignment')),
                ('created_at', models.DateTimeField(blank=True, editable=False, verbose_name='created at')),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('case', models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='petitions.case', verbose_name='case')),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('rule', models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='clocks.deadlinerule', verbose_name='rule')),
            ],
            options={
                'verbose_name': 'historical deadline',
                'verbose_name_plural': 'historical deadlines',
                'db_table': 'supervision_historicaldeadline',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='Holiday',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('date', models.DateField(unique=True, verbose_name='date')),
                ('kind', models.CharField(choices=[('holiday', 'Day off (public holiday)'), ('workday', 'Make-up working day (调休)')], max_length=10, verbose_name='kind')),
                ('name', models.CharField(blank=True, max_length=50, verbose_name='name')),
            ],
            options={
                'verbose_name': 'holiday or make-up working day',
                'verbose_name_plural': 'holiday calendar',
                'db_table': 'supervision_holiday',
                'ordering': ['date'],
                'constraints': [models.CheckConstraint(condition=models.Q(('kind', 'holiday'), ('date__iso_week_day__gte', 6), _connector='OR'), name='holiday_workday_on_weekend')],
            },
        ),
        migrations.CreateModel(
            name='Notification',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('audience_role', models.CharField(blank=True, choices=[('reception', 'Reception'), ('triage', 'Triage'), ('officer', 'Department officer'), ('head', 'Department head'), ('supervisor', 'Supervisor'), ('leader', 'Leader'), ('archivist', 'Archivist'), ('admin', 'Administrator')], max_length=20)),
                ('kind', models.CharField(choices=[('warning', 'Deadline approaching'), ('overdue', 'Deadline overdue'), ('escalation', 'Escalation'), ('reminder', 'Reminder (催办)'), ('supervision_order', 'Supervision order'), ('event', 'Case event'), ('digest', 'Daily digest')], max_length=20, verbose_name='kind')),
                ('title', models.CharField(max_length=200, verbose_name='title')),
                ('body', models.TextField(blank=True, verbose_name='message')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='created at')),
                ('delivery', models.CharField(choices=[('pending', 'Pending'), ('sent', 'Sent'), ('skipped', 'No e-mail address'), ('failed', 'Failed')], default='pending', max_length=10, verbose_name='e-mail')),
                ('delivered_at', models.DateTimeField(blank=True, null=True)),
                ('attempts', models.PositiveSmallIntegerField(default=0)),
                ('dedupe_key', models.CharField(blank=True, max_length=120, null=True)),
                ('audience_center', models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='core.center')),
                ('audience_department', models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='core.department')),
                ('case', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to='petitions.case')),
                ('recipient', models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'notification',
                'verbose_name_plural': 'notifications',
                'db_table': 'supervision_notification',
            },
        ),
        migrations.CreateModel(
            name='NotificationRead',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('read_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='read at')),
                ('notification', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='reads', to='clocks.notification')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'notification read',
                'verbose_name_plural': 'notification reads',
                'db_table': 'supervision_notificationread',
            },
        ),
        migrations.CreateModel(
            name='Deadline',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('screening', 'Screening decision'), ('objection', 'Objection to a transfer or assignment'), ('acceptance_notice', 'Written acceptance notice'), ('handling', 'Handling'), ('review_request', 'Request for review'), ('review_decision', 'Review decision'), ('supervision_order', 'Supervision order response'), ('extension', 'Extension')], max_length=20, verbose_name='kind')),
                ('basis', models.CharField(blank=True, max_length=200, verbose_name='legal basis')),
                ('day_type', models.CharField(choices=[('calendar', 'Calendar days'), ('working', 'Working days')], max_length=10, verbose_name='day type')),
                ('starts_at', models.DateTimeField(verbose_name='starts at')),
                ('due_at', models.DateTimeField(verbose_name='due at')),
                ('is_provisional', models.BooleanField(default=False, help_text='Computed without the official holiday calendar for that year.', verbose_name='provisional')),
                ('paused_at', models.DateTimeField(blank=True, null=True, verbose_name='paused at')),
                ('paused_days', models.PositiveIntegerField(default=0, verbose_name='days paused')),
                ('extended_days', models.PositiveIntegerField(default=0, verbose_name='days extended')),
                ('extension_reason', models.TextField(blank=True, verbose_name='reason for extension')),
                ('met_at', models.DateTimeField(blank=True, null=True, verbose_name='met at')),
                ('warning_level', models.CharField(choices=[('on_time', 'On time'), ('approaching', 'Approaching'), ('severe', 'Due within a day'), ('overdue', 'Overdue')], default='on_time', max_length=12, verbose_name='warning level')),
                ('overdue_since', models.DateTimeField(blank=True, null=True, verbose_name='overdue since')),
                ('escalation_step', models.PositiveSmallIntegerField(default=0, verbose_name='escalation step')),
                ('assignment_id', models.BigIntegerField(blank=True, null=True, verbose_name='assignment')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('case', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='deadlines', to='petitions.case', verbose_name='case')),
                ('rule', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='clocks.deadlinerule', verbose_name='rule')),
            ],
            options={
                'verbose_name': 'deadline',
                'verbose_name_plural': 'deadlines',
                'db_table': 'supervision_deadline',
                'indexes': [models.Index(condition=models.Q(('met_at__isnull', True)), fields=['due_at'], name='deadline_open_due_idx'), models.Index(fields=['case', 'kind'], name='deadline_case_kind_idx')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('met_at__isnull', True)), fields=('case', 'kind', 'assignment_id'), name='deadline_one_open_per_key', nulls_distinct=False), models.CheckConstraint(condition=models.Q(('due_at__gte', models.F('starts_at'))), name='deadline_due_after_start')],
            },
        ),
        migrations.AddIndex(
            model_name='notification',
            index=models.Index(condition=models.Q(('delivery', 'pending')), fields=['id'], name='notification_pending_idx'),
        ),
        migrations.AddIndex(
            model_name='notification',
            index=models.Index(fields=['recipient', '-created_at'], name='notification_recipient_idx'),
        ),
        migrations.AddIndex(
            model_name='notification',
            index=models.Index(fields=['audience_center', 'audience_role', 'audience_department', '-created_at'], name='notification_audience_idx'),
        ),
        migrations.AddConstraint(
            model_name='notification',
            constraint=models.UniqueConstraint(fields=('dedupe_key',), name='notification_unique_dedupe_key'),
        ),
        migrations.AddConstraint(
            model_name='notificationread',
            constraint=models.UniqueConstraint(fields=('notification', 'user'), name='notificationread_unique'),
        ),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=state_operations, database_operations=[])
    ]
