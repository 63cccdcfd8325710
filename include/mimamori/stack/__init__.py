"""The local stack: a project-local PostgreSQL cluster, the mail catcher, Airflow and Superset.

Everything listens on 127.0.0.1 and keeps its state under ``.local/`` (settings.state_dir).
Processes are started in their own session and stopped by the PID files written here,
never by process name.
"""
