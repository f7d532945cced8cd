"""Notifications: the CloudEvents etl sends about item changes and runs, and the targets they go to."""
