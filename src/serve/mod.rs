pub mod rasa;
