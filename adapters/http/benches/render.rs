//! Rendering a page of tasks to JSON, as `GET /api/{user_id}/tasks` answers it.

use std::hint::black_box;

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use tessera_domain::{Task, TaskDescription, TaskId, TaskTitle, UserId};
use tessera_http::dto::TaskResponse;

fn render(c: &mut Criterion) {
    let owner = UserId::new_random();
    let now = Utc::now();
    let page: Vec<Task> = (1..=20)
        .map(|n| Task {
            id: TaskId::new(n),
            owner,
            title: TaskTitle::from_trusted(format!("Task number {n}")),
            description: Some(TaskDescription::from_trusted(
                "Milk, eggs, bread and the rest of the list".to_owned(),
            )),
            completed: n % 3 == 0,
            created_at: now,
            updated_at: now,
        })
        .collect();
    c.bench_function("a page of 20 tasks to JSON", |b| {
        b.iter(|| {
            let body: Vec<TaskResponse> = black_box(&page).iter().map(TaskResponse::from).collect();
            serde_json::to_vec(&body)
        });
    });
}

criterion_group!(benches, render);
criterion_main!(benches);
